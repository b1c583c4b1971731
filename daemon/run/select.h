/* Which files a gate runs on for a batch of changes, and why. A linter runs
 * on the changed files it includes. A test gate also runs when a file it
 * declares in "triggers" changes: on the tests mapped to that file (the
 * gate's "map" rules, else the ecosystem's naming conventions), or on its
 * whole include set when no test maps. A change to one of the gate's
 * config_files re-runs it on everything it includes. Pure: no I/O. */
#ifndef WD_SELECT_H
#define WD_SELECT_H

#include <stdbool.h>

#include "gates/gate.h"
#include "lib/hmap.h"
#include "lib/strvec.h"

/* Why a file the batch itself changed runs. */
#define SELECT_CHANGED "changed"
/* What a file's reason says when its result came from the cache. */
#define SELECT_CACHED "result reused from the cache"

struct selection {
	struct strvec	files;		/* sorted, unique */
	struct hmap	reasons;	/* path -> malloc'ed reason; a file with none
					 * ran because it changed (SELECT_CHANGED) */
};

#define SELECTION_INIT { STRVEC_INIT, HMAP_INIT }

/* True when select_files needs the list of every eligible file for this
 * batch (a trigger or a config file changed). */
bool select_needs_all(const struct gate *g, const struct strvec *changed);
/* Fills out (which must be SELECTION_INIT or released) for gate g. all:
 * every eligible file under ROOT, sorted; may be NULL when
 * select_needs_all() said no. */
void select_files(const struct gate *g, const struct strvec *changed, const struct strvec *all,
    struct selection *out);
/* Adds every file of all that g includes and out (as select_files left
 * it, sorted) lacks, with reason. */
void select_everything(const struct gate *g, const struct strvec *all, const char *reason,
    struct selection *out);
void selection_release(struct selection *sel);

/* The tests of g that belong to the source file src, among candidates
 * (files g includes, sorted). Appends to out. */
void select_map_trigger(const struct gate *g, const char *src, const struct strvec *candidates,
    struct strvec *out);
/* True when path is part of g's input set (include or triggers). */
bool select_is_input(const struct gate *g, const char *path);

#endif
