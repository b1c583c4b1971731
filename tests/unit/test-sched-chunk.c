/* The scheduler's chunking, on a task built by hand: how files are cut
 * into tool processes (batch_size, the argv budget, {file}, task runners)
 * and how a chunk is split in halves. No loop and no process is needed. */
#include "daemon/run/sched-internal.h"
#include "lib/xmalloc.h"
#include "test.h"

struct fixture {
	struct sched	 s;
	struct gate	 g;
	struct task	 t;
	char		**names;
	size_t		 n;
};

/* n files named like "f0001.sh", or padded to len bytes when len > 0. */
static void setup(struct fixture *fx, enum gate_batching b, int batch_size, size_t n,
    size_t len)
{
	memset(fx, 0, sizeof(*fx));
	fx->g.batching = b;
	fx->g.batch_size = batch_size;
	fx->t.s = &fx->s;
	fx->t.gate = &fx->g;
	fx->names = xcalloc(n ? n : 1, sizeof(*fx->names));
	fx->t.untried = xcalloc(n ? n : 1, sizeof(*fx->t.untried));
	for (size_t i = 0; i < n; i++) {
		fx->names[i] = xasprintf("f%04zu.sh", i);
		if (len > strlen(fx->names[i])) {
			fx->names[i] = xrealloc(fx->names[i], len + 1);
			memset(fx->names[i] + 5, 'x', len - 5);
			fx->names[i][len] = '\0';
		}
		fx->t.untried[i] = fx->names[i];
	}
	fx->n = n;
}

static void teardown(struct fixture *fx)
{
	while (fx->t.halves) {
		struct chunk *h = fx->t.halves;

		fx->t.halves = h->next_half;
		free(h);
	}
	free(fx->t.chunks);
	free(fx->t.untried);
	for (size_t i = 0; i < fx->n; i++)
		free(fx->names[i]);
	free(fx->names);
}

/* The chunks cover the files in order, each numbered by its place. */
static void check_cover(const struct fixture *fx)
{
	size_t at = 0;

	for (size_t i = 0; i < fx->t.nchunks; i++) {
		const struct chunk *c = &fx->t.chunks[i];

		ASSERT(c->task == &fx->t);
		ASSERT_EQ(c->idx, i);
		ASSERT(c->files == fx->t.untried + at);
		ASSERT(c->n > 0);
		at += c->n;
	}
	ASSERT_EQ(at, fx->n);
	ASSERT_EQ(fx->t.chunks_left, fx->t.nchunks);
	ASSERT_EQ(fx->t.next_idx, fx->t.nchunks);
}

TEST_IMPL(sched_chunk_batch_size)
{
	struct fixture fx;

	setup(&fx, GATE_BATCH_FILES, 100, 250, 0);
	chunk_cut(&fx.t, fx.n);
	ASSERT_EQ(fx.t.nchunks, 3);
	ASSERT_EQ(fx.t.chunks[0].n, 100);
	ASSERT_EQ(fx.t.chunks[1].n, 100);
	ASSERT_EQ(fx.t.chunks[2].n, 50);
	check_cover(&fx);
	teardown(&fx);
	/* no batch_size: the argv budget alone, and a few files fit once */
	setup(&fx, GATE_BATCH_FILES, 0, 250, 0);
	chunk_cut(&fx.t, fx.n);
	ASSERT_EQ(fx.t.nchunks, 1);
	check_cover(&fx);
	teardown(&fx);
	return 0;
}

/* 128 KiB of names per process, counting 3 bytes a name beyond its
 * characters; a name longer than that still gets a process of its own. */
TEST_IMPL(sched_chunk_argv_budget)
{
	struct fixture fx;

	setup(&fx, GATE_BATCH_FILES, 0, 100, 4093);	/* 4096 bytes each: 32 a chunk */
	chunk_cut(&fx.t, fx.n);
	ASSERT_EQ(fx.t.nchunks, 4);
	ASSERT_EQ(fx.t.chunks[0].n, 32);
	ASSERT_EQ(fx.t.chunks[3].n, 4);
	check_cover(&fx);
	teardown(&fx);
	setup(&fx, GATE_BATCH_FILES, 0, 100, 4094);	/* one byte over: 31 */
	chunk_cut(&fx.t, fx.n);
	ASSERT_EQ(fx.t.chunks[0].n, 31);
	check_cover(&fx);
	teardown(&fx);
	setup(&fx, GATE_BATCH_FILES, 1000, 3, 200 * 1024);
	chunk_cut(&fx.t, fx.n);
	ASSERT_EQ(fx.t.nchunks, 3);
	check_cover(&fx);
	teardown(&fx);
	return 0;
}

TEST_IMPL(sched_chunk_one_and_none)
{
	struct fixture fx;

	/* {file}: one process per file, batch_size or not */
	setup(&fx, GATE_BATCH_ONE, 50, 5, 0);
	chunk_cut(&fx.t, fx.n);
	ASSERT_EQ(fx.t.nchunks, 5);
	check_cover(&fx);
	teardown(&fx);
	/* a task runner: one process for every file, past any budget */
	setup(&fx, GATE_BATCH_NONE, 10, 100, 4093);
	chunk_cut(&fx.t, fx.n);
	ASSERT_EQ(fx.t.nchunks, 1);
	ASSERT_EQ(fx.t.chunks[0].n, 100);
	check_cover(&fx);
	teardown(&fx);
	/* everything came from the cache: no chunk */
	setup(&fx, GATE_BATCH_NONE, 0, 0, 0);
	chunk_cut(&fx.t, 0);
	ASSERT_EQ(fx.t.nchunks, 0);
	ASSERT_EQ(fx.t.chunks_left, 0);
	teardown(&fx);
	setup(&fx, GATE_BATCH_FILES, 0, 0, 0);
	chunk_cut(&fx.t, 0);
	ASSERT_EQ(fx.t.nchunks, 0);
	teardown(&fx);
	return 0;
}

/* Halves of an odd chunk: the smaller first; both queued after whatever
 * was ready, numbered after the task's chunks, owned by the task. */
TEST_IMPL(sched_chunk_split_halves)
{
	struct fixture fx;
	struct chunk *first, *second;

	setup(&fx, GATE_BATCH_FILES, 5, 7, 0);
	chunk_cut(&fx.t, fx.n);
	ASSERT_EQ(fx.t.nchunks, 2);
	exec_enqueue(&fx.s, &fx.t.chunks[1]);
	chunk_split(&fx.s, &fx.t.chunks[0]);	/* 5 files: 2 + 3 */
	ASSERT_EQ(fx.t.chunks_left, 4);
	ASSERT(fx.s.ready_head == &fx.t.chunks[1]);
	first = fx.t.chunks[1].next_ready;
	ASSERT_NOT_NULL(first);
	second = first->next_ready;
	ASSERT_NOT_NULL(second);
	ASSERT(fx.s.ready_tail == second);
	ASSERT_NULL(second->next_ready);
	ASSERT(first->files == fx.t.untried);
	ASSERT_EQ(first->n, 2);
	ASSERT(second->files == fx.t.untried + 2);
	ASSERT_EQ(second->n, 3);
	ASSERT_EQ(first->idx, 2);
	ASSERT_EQ(second->idx, 3);
	ASSERT(first->task == &fx.t && second->task == &fx.t);
	ASSERT(fx.t.halves == second && second->next_half == first);
	/* and a half of two splits into two of one */
	chunk_split(&fx.s, first);
	ASSERT_EQ(fx.t.chunks_left, 6);
	ASSERT_EQ(fx.s.ready_tail->n, 1);
	ASSERT(fx.s.ready_tail->files == fx.t.untried + 1);
	ASSERT_EQ(fx.s.ready_tail->idx, 5);
	teardown(&fx);
	return 0;
}
