/* .pre-commit-config.yaml (read with libyaml) translated into watchd
 * gates: `repo: local` hooks with language system or script become
 * command gates; well-known public hooks become the gates watchd has for
 * their tools; everything else is listed as not mapped, with the reason.
 * Pure: no I/O beyond the text it is given. */
#ifndef WD_PRECOMMIT_H
#define WD_PRECOMMIT_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "lib/buf.h"
#include "lib/strvec.h"

/* One hook of the file, in file order. Strings are owned by the row. */
struct precommit_row {
	char	*hook;		/* "psf/black black", "local pylint" */
	char	*gate;		/* the gate written for it, or NULL: not mapped */
	char	*note;		/* why not mapped, or what changed on the way; or NULL */
	char	*tool;		/* the program the gate starts (mapped rows) */
	char	*hint;		/* how to install that tool, or NULL */
};

struct precommit {
	cJSON			*gates;		/* array of gate objects, owned */
	struct strvec		 ignore;	/* from the top-level exclude, when exact */
	struct precommit_row	*rows;
	size_t			 nrows;
	struct strvec		 notes;		/* about the file as a whole */
};

/* Translates the YAML text. 0, or -1 with err holding "line L, column C:
 * problem" or what is missing (no repos list); *pc then holds nothing to
 * release. */
int precommit_translate(const char *text, size_t len, struct precommit *pc, struct buf *err);
/* Appends the mapping table (a header, one line per hook, the file-wide
 * notes and a count) to out. */
void precommit_table(const struct precommit *pc, struct buf *out);
void precommit_release(struct precommit *pc);

#endif
