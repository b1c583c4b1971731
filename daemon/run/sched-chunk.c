/* Chunking: a task's files (those the cache could not answer) become tool
 * processes. A task runner (no file names in its argv) gets one process
 * for the lot; a {file} gate one per file; any other gate as many files as
 * fit its batch_size and ARGV_BUDGET bytes of names, like xargs. A failing
 * chunk the tool would not attribute is bisected here (the decision is
 * verdict_bisect's). */
#include <stdbool.h>
#include <string.h>

#include "lib/xmalloc.h"
#include "sched-internal.h"

#define ARGV_BUDGET (128 * 1024)	/* bytes of file names per process */

void chunk_cut(struct task *t, size_t nuntried)
{
	size_t budget = 0, first = 0, chunks_alloc = 0;

	/* grown as cut, not sized for one chunk per file: 72 bytes a file on
	 * a 20,000-file batch that fits a few argv */
	if (nuntried > 0 && t->gate->batching == GATE_BATCH_NONE) {
		t->chunks = xgrow(t->chunks, &chunks_alloc, 1, sizeof(*t->chunks));
		t->chunks[0] = (struct chunk){ .task = t, .files = t->untried, .n = nuntried };
		t->nchunks = 1;
	} else {
		for (size_t i = 0; i < nuntried; i++) {
			size_t len = strlen(t->untried[i]) + 3;
			size_t n = i - first;
			bool cut = n > 0 &&
			    (t->gate->batching == GATE_BATCH_ONE ||
			     (t->gate->batch_size > 0 && n >= (size_t)t->gate->batch_size) ||
			     budget + len > ARGV_BUDGET);

			if (cut) {
				t->chunks = xgrow(t->chunks, &chunks_alloc, t->nchunks + 1,
				    sizeof(*t->chunks));
				t->chunks[t->nchunks++] = (struct chunk){ .task = t,
				    .files = t->untried + first, .n = n };
				first = i;
				budget = 0;
			}
			budget += len;
		}
		if (nuntried > first) {
			t->chunks = xgrow(t->chunks, &chunks_alloc, t->nchunks + 1,
			    sizeof(*t->chunks));
			t->chunks[t->nchunks++] = (struct chunk){ .task = t,
			    .files = t->untried + first, .n = nuntried - first };
		}
	}
	if (chunks_alloc > t->nchunks && t->nchunks > 0)	/* one per file is the worst */
		t->chunks = xrealloc(t->chunks, t->nchunks * sizeof(*t->chunks));
	for (size_t i = 0; i < t->nchunks; i++)
		t->chunks[i].idx = i;
	t->next_idx = t->nchunks;
	t->chunks_left = t->nchunks;
}

/* Bisection costs about 2k log2(n/k) extra processes for k failing files
 * among n, and never more than 2n. */
void chunk_split(struct sched *s, const struct chunk *c)
{
	struct task *t = c->task;
	size_t half = c->n / 2;

	for (int k = 0; k < 2; k++) {
		struct chunk *h = xcalloc(1, sizeof(*h));

		h->task = t;
		h->files = c->files + (k ? half : 0);
		h->n = k ? c->n - half : half;
		h->idx = t->next_idx++;
		h->next_half = t->halves;
		t->halves = h;
		t->chunks_left++;
		exec_enqueue(s, h);
	}
}
