/* The commit-msg gate's checker: a commit message against Conventional
 * Commits 1.0 (https://www.conventionalcommits.org/en/v1.0.0/), plus the
 * gate's optional "types", "scopes" and "max_subject". Pure: bytes in,
 * findings out; `watchd check --commit-msg FILE` feeds it. */
#ifndef WD_COMMIT_MSG_H
#define WD_COMMIT_MSG_H

#include <stddef.h>

#include "gate.h"
#include "lib/strvec.h"

struct commit_msg_opts {
	const struct strvec	*types;		/* allowed types (any case); NULL or
						 * empty: any word */
	const struct strvec	*scopes;	/* allowed scopes (any case); NULL or
						 * empty: any */
	int			 max_subject;	/* characters in the first line; 0: no cap */
	char			 comment_char;	/* git's core.commentChar; 0 means '#' */
};

/* Checks the message msg[0..len) as git will record it: comment lines and
 * everything from the scissors line on are left out, and blank lines are
 * folded as git's cleanup does. Merge and revert messages as git writes
 * them pass; "fixup! ", "squash! " and "amend! " subjects are judged on
 * the subject they name (for amend!, on the new message under it). Each
 * problem is appended to out with path (borrowed, copied), the 1-based
 * line and column in msg, a code ("CC1".."CC16" after the numbered rules of
 * the specification; "CC-types", "CC-scopes", "CC-max-subject" for the
 * gate's options) and a message naming the rule. Returns the number of
 * findings added. */
size_t commit_msg_check(const char *msg, size_t len, const struct commit_msg_opts *o,
    const char *path, struct findings *out);

/* The options a configured commit-msg gate holds (borrowed from g), or
 * NULL when g is of another type. */
const struct commit_msg_opts *commit_msg_gate_opts(const struct gate *g);

#endif
