/* Settling: turns a stream of file events into batches of files that are
 * complete. A batch goes out once no event arrived for debounce_ms (or
 * max_wait_ms after the first under continuous churn), while no git
 * operation is in progress, and only with files that are stable: not open
 * for writing by any process (when the last event was no writer's close,
 * asked of the kernel with a read lease where it allows one, else judged
 * from the events; either way for at most
 * writer_timeout_ms after the last event) and unchanged (size, mtime,
 * inode) across two looks stability_ms apart. Installs a SIGIO handler
 * (a broken lease signals it). */
#ifndef WD_SETTLE_H
#define WD_SETTLE_H

#include <stdbool.h>
#include <stdint.h>

#include <uv.h>

#include "lib/strvec.h"

struct settle;
struct tree;

struct settle_opts {
	uv_loop_t	*loop;
	const char	*root;
	const char	*gitdir;	/* absolute, with trailing '/', or NULL */
	/* Where the stamp each changed file had when it went out is recorded
	 * (tree_note), so that a rescan reports only what changed since; NULL:
	 * nowhere. Borrowed: it must outlive the settle. */
	struct tree	*tree;
	int		 debounce_ms;
	int		 max_wait_ms;
	int		 stability_ms;
	int		 writer_timeout_ms;
	/* True while events already read from the kernel wait to be handled
	 * (watcher_backlog); called with the flush callback's arg. The
	 * stream is not quiet then, however long ago the last event handled
	 * was read. NULL: never. */
	bool		(*backlog)(void *arg);
	/* Told of each event handled for a file, with the flush callback's
	 * arg: stamp is the look taken at a writer's close of a regular
	 * file, 0 for any other event and for a later look that finds the
	 * file changed with no event (the stability look). While nothing
	 * said 0 since, the file goes out with that stamp. NULL: nobody is
	 * told. */
	void		(*closed)(void *arg, const char *rel, uint64_t stamp);
};

/* A batch: changed files (stable, exist) and removed ones, relative to
 * ROOT, both sorted. seq is the lowest event sequence number in the batch.
 * Borrowed. Both lists may be empty when pending entries were only
 * dropped. The changed files' stamps are in the tree before this runs. */
typedef void settle_flush_fn(void *arg, const struct strvec *changed,
    const struct strvec *removed, uint64_t seq);

struct settle *settle_new(const struct settle_opts *o, settle_flush_fn *cb, void *arg);
/* Feeds one watcher event (WEV_* bits) with its sequence number. */
void settle_event(struct settle *st, const char *rel, unsigned what, uint64_t seq);
/* The same for an event seen at loop time `when` (<= now): the debounce
 * counts from then. */
void settle_event_at(struct settle *st, const char *rel, unsigned what, uint64_t seq,
    uint64_t when);
/* New timing after a config reload (applies from the next event on). */
void settle_set_timing(struct settle *st, int debounce_ms, int max_wait_ms, int stability_ms,
    int writer_timeout_ms);
/* Something changed in the git directory (name, an entry of it; gone: it
 * was removed or moved away): re-evaluate the deferral soon. The events
 * come in order with the work tree's, so they tell that a git operation
 * was in progress when the loop is still behind it and the disk no longer
 * shows it. */
void settle_git_changed(struct settle *st, const char *name, bool gone);
/* The questions below may be asked of NULL, a settle stopped: the runs
 * still ending as the daemon stops ask them after it is freed. */
/* Lowest sequence number still pending, UINT64_MAX when none. */
uint64_t settle_min_seq(const struct settle *st);
size_t settle_pending(const struct settle *st);
/* Pending files some process still has open for writing (they wait for
 * it to close, at most writer_timeout_ms after their last event). */
size_t settle_writers_open(const struct settle *st);
/* True while a git operation defers dispatch. */
bool settle_git_busy(const struct settle *st);
/* Stops timers; freed from the close callbacks. */
void settle_stop(struct settle *st);

/* Exposed for unit tests: is a git operation in progress in gitdir? now
 * is the wall clock in seconds. */
bool settle_git_in_progress(const char *gitdir, double now);

/* Exposed for unit tests: does any process have path open for writing?
 * A regular file is probed with a read lease, taken and released at once. */
enum {
	SETTLE_PROBE_NONE,	/* no writer (or not a regular file: cannot have one) */
	SETTLE_PROBE_WRITER,	/* open for writing somewhere */
	SETTLE_PROBE_UNKNOWN,	/* no lease allowed here: events must decide */
	SETTLE_PROBE_GONE,	/* no such file */
};
int settle_writer_probe(const char *path);

#endif
