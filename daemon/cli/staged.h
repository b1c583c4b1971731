/* The staged content `check --staged` judges, as the scheduler's content
 * source (struct sched_content): blob ids straight from the index, and
 * the staged bytes written to a private tree only for the files a tool
 * must read and the work tree does not hold as staged. A check whose
 * every result is cached writes nothing. */
#ifndef WD_STAGED_H
#define WD_STAGED_H

#include "daemon/git/repo.h"
#include "daemon/run/sched.h"
#include "lib/hmap.h"
#include "lib/strvec.h"

struct staged {
	struct repo		*repo;		/* borrowed: the index judged */
	const char		*root;		/* the work tree (borrowed) */
	const char		*tmp_dir;	/* where the private tree goes (borrowed) */
	const struct strvec	*index;		/* every path in the index, sorted (borrowed) */
	char			*dir;		/* the private tree, NULL until needed */
	struct hmap		 written;	/* paths written into dir */
	unsigned		 nwritten;
	struct sched_content	 content;	/* what the scheduler is given */
};

/* Fills st (its content points back at it); nothing is written yet. */
void staged_init(struct staged *st, struct repo *repo, const char *root, const char *tmp_dir,
    const struct strvec *index);
/* Removes the private tree, if one was made, and frees st's contents. */
void staged_release(struct staged *st);

#endif
