/* Planning: a submitted batch becomes one task per gate, holding the files
 * that gate must judge (select.c says which and why) minus those a task of
 * the same gate is already waiting to judge. Keeps the invariant:
 *  - a file already in a WAITING task of the same gate is dropped from a
 *    newer task: the waiting one hashes the content when it starts, so it
 *    judges the newest bytes anyway (never lost, never run twice). */
#include <stdbool.h>
#include <stdlib.h>

#include "lib/buf.h"
#include "lib/hmap.h"
#include "lib/strvec.h"
#include "lib/xmalloc.h"
#include "sched-internal.h"
#include "select.h"

/* Drops from sel the pairs the caller's filter does not keep (ci shards). */
static void drop_unkept(struct sched *s, const struct gate *g, struct selection *sel)
{
	size_t j = 0;

	if (s->o.keep == NULL)
		return;
	for (size_t i = 0; i < sel->files.n; i++) {
		if (s->o.keep(s->o.keep_arg, g, sel->files.v[i]))
			sel->files.v[j++] = sel->files.v[i];
		else {
			free(hmap_dels(&sel->reasons, sel->files.v[i]));
			free(sel->files.v[i]);
		}
	}
	sel->files.n = j;
	if (sel->files.v)
		sel->files.v[j] = NULL;
}

/* Drops from sel every path already waiting in a task of the same gate:
 * that task hashes the content when it starts, so it judges the newest
 * bytes anyway. */
static void drop_waiting(struct sched *s, const struct gate *g, struct selection *sel)
{
	size_t j = 0;

	for (size_t i = 0; i < sel->files.n; i++) {
		bool waiting = false;

		for (struct task *t = s->tasks; t && !waiting; t = t->next)
			waiting = t->gate == g && t->state == TASK_WAITING &&
			    strvec_bsearch(&t->files, sel->files.v[i]) >= 0;
		if (waiting) {
			free(hmap_dels(&sel->reasons, sel->files.v[i]));
			free(sel->files.v[i]);
		} else
			sel->files.v[j++] = sel->files.v[i];
	}
	sel->files.n = j;
	if (sel->files.v)
		sel->files.v[j] = NULL;
}

int plan_tasks(struct sched *s, const struct strvec *changed, const struct strvec *removed,
    struct task **head)
{
	const struct config *cfg = s->o.cfg;
	struct task **tail = head;
	struct strvec all = STRVEC_INIT;
	bool listed = false;
	int ntasks = 0;

	*head = NULL;
	for (size_t gi = 0; gi < cfg->ngates; gi++) {
		struct gate *g = &cfg->gates[gi];
		struct selection sel = SELECTION_INIT;
		struct strvec with_removed = STRVEC_INIT;
		const struct strvec *touched = changed;
		bool forced = strvec_find(&s->forced, g->name) >= 0;
		struct task *t;

		if (s->o.only && strvec_find(s->o.only, g->name) < 0)
			continue;
		/* a config file that went away changed the tool's settings too
		 * (copied only then: a batch can be 20,000 paths) */
		for (size_t i = 0; removed && i < removed->n; i++)
			if (strvec_find(&g->config_files, removed->v[i]) >= 0 &&
			    !gate_matches(g, removed->v[i])) {
				if (touched == changed) {
					strvec_pushv(&with_removed, changed);
					touched = &with_removed;
				}
				strvec_push(&with_removed, removed->v[i]);
			}
		/* listed per gate, each only its own inputs: a 100k-file tree
		 * is never copied whole for a gate that includes a few files */
		strvec_clear(&all);
		listed = false;
		if (s->o.list_files && (forced || select_needs_all(g, touched))) {
			s->o.list_files(s->o.list_arg, g, &all);
			listed = true;
		}
		select_files(g, touched, listed ? &all : NULL, &sel);
		strvec_clear(&with_removed);
		if (forced && listed)
			select_everything(g, &all, "the gate's definition changed", &sel);
		drop_unkept(s, g, &sel);
		drop_waiting(s, g, &sel);
		if (sel.files.n == 0) {
			selection_release(&sel);
			continue;
		}
		t = xcalloc(1, sizeof(*t));
		t->s = s;
		t->gate = g;
		t->files = sel.files;
		t->reasons = sel.reasons;
		t->exit_code = -1;
		t->skipped = s->o.skip && strvec_find(s->o.skip, g->name) >= 0;
		t->agg = (struct gate_result)GATE_RESULT_INIT;
		buf_init(&t->output);
		buf_init(&t->fp_base);
		buf_init(&t->rfp_base);
		*tail = t;
		tail = &t->next;
		ntasks++;
	}
	strvec_clear(&all);
	strvec_clear(&s->forced);
	return ntasks;
}
