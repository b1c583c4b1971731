/* The busy policy: when a waiting task may start, given the tasks of its
 * gate that are running or waiting ahead of it. Keeps the invariants:
 *  - a task is WAITING until no RUNNING task of the same gate shares a file
 *    with it: one file is never judged twice at once by one gate;
 *  - of two waiting tasks of a gate sharing a file, the older starts first;
 *  - busy=restart kills the running task instead of waiting; the killed
 *    task is recorded as skipped (verdict_finish) and its files join the
 *    newer task. */
#include <stdbool.h>
#include <string.h>

#include "lib/hmap.h"
#include "lib/strvec.h"
#include "lib/xmalloc.h"
#include "sched-internal.h"
#include "spawn.h"

static bool overlaps(const struct task *a, const struct task *b)
{
	/* both file lists are sorted: a merge walk */
	size_t i = 0, j = 0;

	while (i < a->files.n && j < b->files.n) {
		int c = strcmp(a->files.v[i], b->files.v[j]);

		if (c == 0)
			return true;
		if (c < 0)
			i++;
		else
			j++;
	}
	return false;
}

void busy_supersede(struct task *old)
{
	old->superseded = true;
	hash_cancel(old);
	remote_lookup_abort(old);
	for (size_t i = 0; i < old->nchunks; i++)
		if (old->chunks[i].sp && !old->chunks[i].done)
			spawn_kill(old->chunks[i].sp);
	for (struct chunk *h = old->halves; h; h = h->next_half)
		if (h->sp && !h->done)
			spawn_kill(h->sp);
}

void busy_admit(struct sched *s)
{
	struct task *t, *next;

	for (t = s->tasks; t; t = next) {
		bool blocked = false;

		next = t->next;
		if (t->state != TASK_WAITING)
			continue;
		for (struct task *o = s->tasks; o && !blocked; o = o->next) {
			if (o == t || o->gate != t->gate || o->state != TASK_RUNNING ||
			    !overlaps(o, t))
				continue;
			if (t->gate->busy == GATE_BUSY_RESTART && !o->superseded) {
				/* the newer task inherits the old one's files */
				for (size_t i = 0; i < o->files.n; i++)
					if (strvec_bsearch(&t->files, o->files.v[i]) < 0) {
						strvec_push(&t->files, o->files.v[i]);
						hmap_puts(&t->reasons, o->files.v[i],
						    xstrdup("re-run: a newer change restarted the gate"));
					}
				strvec_sort(&t->files);
				busy_supersede(o);
			}
			blocked = true;
		}
		/* an earlier waiting task on the same files goes first */
		for (struct task *o = s->tasks; o != t && !blocked; o = o->next)
			blocked = o->gate == t->gate && o->state == TASK_WAITING && overlaps(o, t);
		if (!blocked)
			exec_start_task(s, t);
	}
}
