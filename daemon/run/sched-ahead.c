/* Content ids taken ahead of the batch. A file whose writer closed it goes
 * out debounce_ms later at the earliest; it is hashed during that wait,
 * by a worker thread of this file's own, and hash_start takes that id
 * instead of reading the file again. A 10,000-file burst's last batch hashed 300-900 files
 * after the debounce, 3-6 ms of its tail; their ids are now taken while
 * the burst is still being written.
 *
 * Why the id still stands at dispatch: settle tells of every event for a
 * path, and of a look that finds it changed with no event (see
 * settle_opts.closed). The worker hashes the file only when its stamp is
 * still the close's. So an id is READY only while the file has had no
 * event since the close it was taken for, and settle has seen it at that
 * stamp, which is the stamp it goes out with. A newer close takes a new
 * id (the older job's answer is dropped by its sequence number).
 *
 * What is kept is bounded, from the first close on: AHEAD_SETS x
 * AHEAD_WAYS slots of 48 bytes (96 KiB, mapped, so that a daemon that saw
 * a few closes has a few pages of it), keyed by a 64-bit hash of the path,
 * each with the raw id; and a ring of at most AHEAD_RING closes waiting
 * for a worker (32 bytes each and their paths). Only files some gate
 * includes and of at most AHEAD_MAX_BYTES are hashed ahead: a read nobody
 * may need is not worth it for a big file, nor for one no gate judges.
 *
 * Nothing hashed twice, nothing hashed for nothing. With 20,000 rewrites
 * at full speed on two cores (the writer on one), closes came faster than
 * they were hashed and faster than batches went out: newer closes
 * took the slots of ids not used yet, batches hashed those files again,
 * and the daemon's CPU rose by a quarter. So:
 *   - a close takes a free slot, or one whose id a batch has used
 *     (TAKEN), or one unused for AHEAD_STALE_MS (a close that changed
 *     nothing goes out in no batch); with none left it is not hashed
 *     ahead, and its batch hashes it as before;
 *   - workers take the newest closes first, and a batch that needs a
 *     file still waiting takes it back and hashes it itself: out of the
 *     ring, or out of a worker's job, which then skips it; only the file
 *     a worker is reading can be read twice;
 *   - a full ring pushes its oldest close out, unhashed.
 *
 * Cheap to have when it does not help. It ran as jobs on libuv's pool,
 * one a loop turn: 1,300 jobs a burst of 10,500 files, each switching its
 * pool thread to SCHED_IDLE and back and waking the loop when done. That
 * cost 7,700-10,400 sched_setscheduler calls, 16,000-23,000 futex calls
 * and 34,000-41,000 context switches over three bursts, against none,
 * 600-800 and 18,000-21,000 without the hashing ahead. Now one thread a core (at most
 * AHEAD_WORKERS_MAX) is at SCHED_IDLE for good; a close waits in the ring
 * until AHEAD_JOB_MAX have come or AHEAD_WAIT_MS has passed, so a worker
 * wakes once for many; jobs go to a worker and back on lock-free stacks
 * (a lock a worker held while the kernel kept it off the CPU would hold
 * the loop), and a worker wakes the loop only once it has nothing left.
 * Three bursts then cost 3,300-3,700 futex calls and 26,000 context
 * switches. */
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lib/blobid.h"
#include "lib/dirhold.h"
#include "lib/hmap.h"
#include "lib/loopwake.h"
#include "lib/sha1.h"
#include "lib/xmalloc.h"
#include "sched-internal.h"

#define AHEAD_WAYS	4
#define AHEAD_SETS	512
#define AHEAD_RING	1024			/* a power of two */
#define AHEAD_STALE_MS	30000			/* an id no batch used by then */
#define AHEAD_MAX_BYTES	((uint64_t)1 << 20)
#define AHEAD_JOB_MAX	128
#define AHEAD_HELD	2			/* jobs a worker holds at most */
#define AHEAD_WAIT_MS	4			/* a close waits for more at most */
#define AHEAD_WORKERS_MAX 4

enum { SLOT_FREE, SLOT_QUEUED, SLOT_READY, SLOT_TAKEN };

struct ahead_job;

struct ahead_slot {
	uint64_t	 key;		/* hmap_hash of the path */
	struct ahead_job *job;		/* QUEUED: the job that holds it, or NULL (the ring) */
	uint32_t	 seq;		/* which close: a job's answer for an older one is void */
	union {
		uint32_t pos;		/* QUEUED in the ring: where (mod 2^32) */
		uint32_t at;		/* READY: when (loop ms, mod 2^32) */
	};
	uint8_t		 state;
	uint8_t		 idx;		/* QUEUED in a job: which of its items */
	unsigned char	 oid[20];	/* READY, TAKEN: the id */
};
_Static_assert(sizeof(struct ahead_slot) == 48, "the mapping's size in the header comment");

struct ahead_item {
	char		*path;		/* owned; NULL: taken out of the ring */
	uint64_t	 key, stamp;
	uint32_t	 seq;
};

/* One close in a job. The worker reads item and skip and writes oid and
 * ok; the loop reads them once the job is back. */
struct ahead_entry {
	struct ahead_item item;		/* path owned */
	unsigned char	 oid[20];
	uint8_t		 ok;		/* oid is the file's at item.stamp */
	/* set by the loop: the id is no longer wanted (its batch read the
	 * file, or another event voided the close), so it is not read */
	atomic_uchar	 skip;
};

/* A run of closes handed to a worker: on its inbox stack, then on the
 * done stack, then freed by the loop (take_back). */
struct ahead_job {
	struct ahead_job *next;
	int		 worker;
	size_t		 n;
	struct ahead_entry e[];		/* n */
};

/* A thread that hashes jobs at SCHED_IDLE for the life of the scheduler.
 * The loop never waits for it: jobs go there and back on lock-free
 * stacks, so a worker the kernel holds off the CPU while the loop is
 * busy cannot hold the loop (a lock it took would). */
struct ahead_worker {
	struct ahead	*a;
	uv_thread_t	 tid;
	uv_sem_t	 wake;		/* posted for each job, and to stop */
	_Atomic(struct ahead_job *) inbox;	/* jobs handed to it, newest on top */
	int		 held;		/* loop: jobs handed and not back yet */
	int		 index;
};

/* Owned by the scheduler (s->ahead) from the first close to sched_free. */
struct ahead {
	struct sched	*s;
	struct ahead_slot *slots;	/* AHEAD_SETS * AHEAD_WAYS */
	uint32_t	 seq;
	struct ahead_item *ring;	/* waiting are [head, tail) */
	size_t		 ring_alloc;	/* grows to AHEAD_RING */
	uint32_t	 head, tail;	/* counts, taken mod ring_alloc */
	uv_timer_t	 wait;		/* AHEAD_WAIT_MS after a close that waits */
	/* a worker has nothing left to do. Not a uv_async_t, whose sender a
	 * worker at SCHED_IDLE was, preempted mid-send by the loop it woke,
	 * which then spun on it (lib/loopwake.h) */
	struct loopwake	 back;
	_Atomic(struct ahead_job *) done;
	struct ahead_worker workers[AHEAD_WORKERS_MAX];
	int		 nworkers;	/* started; 0: nothing is hashed ahead */
	char		*root;		/* owned: for the workers' own dirholds */
	atomic_int	 cancel;	/* set on shutdown */
	bool		 stopped;
};

static struct ahead_slot *find(struct ahead *a, uint64_t key)
{
	struct ahead_slot *set = a->slots + (key % AHEAD_SETS) * AHEAD_WAYS;

	for (int w = 0; w < AHEAD_WAYS; w++)
		if (set[w].state != SLOT_FREE && set[w].key == key)
			return &set[w];
	return NULL;
}

/* How much a slot is worth keeping: 0 free, 1 its id used, 2 an id no
 * batch used in AHEAD_STALE_MS, 3 waiting for the pool or for its batch. */
static int worth(const struct ahead_slot *slot, uint32_t now)
{
	switch (slot->state) {
	case SLOT_FREE:
		return 0;
	case SLOT_TAKEN:
		return 1;
	case SLOT_READY:
		return now - slot->at > AHEAD_STALE_MS ? 2 : 3;
	default:
		return 3;
	}
}

/* The slot a new close of key takes: its own, else the least worth of its
 * set (the oldest among equals), else none. */
static struct ahead_slot *claim(struct ahead *a, uint64_t key, uint32_t now)
{
	struct ahead_slot *set = a->slots + (key % AHEAD_SETS) * AHEAD_WAYS, *pick = NULL;
	int pw = 3;

	for (int w = 0; w < AHEAD_WAYS; w++) {
		int ww = worth(&set[w], now);

		if (set[w].state != SLOT_FREE && set[w].key == key)
			return &set[w];
		if (ww < pw || (ww == pw && pick != NULL && set[w].seq < pick->seq)) {
			pick = &set[w];
			pw = ww;
		}
	}
	return pick;
}

static struct ahead_item *ring_at(struct ahead *a, uint32_t pos)
{
	return &a->ring[pos & (a->ring_alloc - 1)];
}

/* Doubles the ring (up to AHEAD_RING), keeping each waiting close at its
 * count. */
static void ring_grow(struct ahead *a)
{
	size_t n = a->ring_alloc ? 2 * a->ring_alloc : 64;
	struct ahead_item *r = xcalloc(n, sizeof(*r));

	for (uint32_t p = a->head; p != a->tail; p++)
		r[p & (n - 1)] = *ring_at(a, p);
	free(a->ring);
	a->ring = r;
	a->ring_alloc = n;
}

/* The close slot stands for while it still waits in the ring (not yet
 * handed to a job), else NULL. */
static struct ahead_item *waiting(struct ahead *a, const struct ahead_slot *slot)
{
	struct ahead_item *it;

	if (slot->state != SLOT_QUEUED || slot->job != NULL ||
	    (uint32_t)(slot->pos - a->head) >= (uint32_t)(a->tail - a->head))
		return NULL;
	it = ring_at(a, slot->pos);
	return it->path != NULL && it->seq == slot->seq ? it : NULL;
}

/* Nobody wants slot's close hashed ahead any more: it is taken out of the
 * ring, or its job is told to skip it, and the slot is freed. */
static void unqueue(struct ahead *a, struct ahead_slot *slot)
{
	struct ahead_item *it = waiting(a, slot);

	if (it != NULL) {
		free(it->path);
		it->path = NULL;
	} else if (slot->state == SLOT_QUEUED && slot->job != NULL)
		atomic_store_explicit(&slot->job->e[slot->idx].skip, 1, memory_order_relaxed);
	slot->state = SLOT_FREE;
}

static bool any_gate_includes(const struct sched *s, const char *rel)
{
	for (size_t i = 0; i < s->o.cfg->ngates; i++)
		if (gate_matches(&s->o.cfg->gates[i], rel))
			return true;
	return false;
}

static void unhex(const char *hex, unsigned char out[20])
{
	for (int i = 0; i < 20; i++) {
		unsigned hi = (unsigned)(hex[2 * i] <= '9' ? hex[2 * i] - '0' : hex[2 * i] - 'a' + 10);
		unsigned lo = (unsigned)(hex[2 * i + 1] <= '9' ? hex[2 * i + 1] - '0' :
		    hex[2 * i + 1] - 'a' + 10);

		out[i] = (unsigned char)(hi << 4 | lo);
	}
}

static void push(_Atomic(struct ahead_job *) *stack, struct ahead_job *j)
{
	struct ahead_job *top = atomic_load(stack);

	do
		j->next = top;
	while (!atomic_compare_exchange_weak(stack, &top, j));
}

static void hash_job(struct ahead *a, struct ahead_job *j, int root_fd)
{
	char hex[OID_HEX + 1];
	uint64_t stamp;

	for (size_t i = 0; i < j->n && root_fd >= 0; i++) {
		struct ahead_entry *e = &j->e[i];

		if (atomic_load(&a->cancel))
			break;
		if (atomic_load_explicit(&e->skip, memory_order_relaxed))
			continue;	/* its batch read it already */
		/* another stamp: written again since, and that event voids it */
		if (blobid_stamped(root_fd, e->item.path, AHEAD_MAX_BYTES, &a->cancel, hex,
		    &stamp) == 0 && stamp == e->item.stamp) {
			unhex(hex, e->oid);
			e->ok = 1;
		}
	}
}

/* Speculative work: the worker runs only on a core nothing else wants
 * (SCHED_IDLE). Per job, not per close, it asks for ROOT's descriptor (a
 * stat of ROOT's path), so a ROOT replaced meanwhile is never read. */
static void worker_main(void *arg)
{
	struct ahead_worker *w = arg;
	struct ahead *a = w->a;
	struct sched_param idle = { 0 };
	struct dirhold root;

	(void)pthread_setschedparam(pthread_self(), SCHED_IDLE, &idle);
	dirhold_init(&root, a->root);
	for (;;) {
		struct ahead_job *j, *next;
		int fd;

		uv_sem_wait(&w->wake);
		if (atomic_load(&a->cancel))
			break;
		if ((j = atomic_exchange(&w->inbox, NULL)) == NULL)
			continue;	/* a post for a job taken with an earlier one */
		fd = dirhold_fd(&root);
		for (; j != NULL; j = next) {	/* newest first */
			next = j->next;
			hash_job(a, j, fd);
			push(&a->done, j);
		}
		/* one wake-up of the loop per run of jobs, not per job */
		if (atomic_load(&w->inbox) == NULL)
			loopwake_send(&a->back);
	}
	dirhold_release(&root);
}

static void job_free(struct ahead_job *j)
{
	for (size_t i = 0; i < j->n; i++)
		free(j->e[i].item.path);
	free(j);
}

/* The jobs workers have done: their ids into the slots still waiting for
 * them. */
static void take_back(struct ahead *a)
{
	struct ahead_job *j, *next;
	uint32_t now;

	if (atomic_load_explicit(&a->done, memory_order_relaxed) == NULL)
		return;
	now = (uint32_t)uv_now(a->s->o.loop);
	for (j = atomic_exchange(&a->done, NULL); j != NULL; j = next) {
		next = j->next;
		for (size_t i = 0; i < j->n; i++) {
			struct ahead_entry *e = &j->e[i];
			struct ahead_slot *slot = find(a, e->item.key);

			/* a later close or another event has had the slot since */
			if (slot == NULL || slot->state != SLOT_QUEUED || slot->seq != e->item.seq)
				continue;
			if (e->ok) {
				memcpy(slot->oid, e->oid, sizeof(slot->oid));
				slot->state = SLOT_READY;
				slot->at = now;
			} else
				slot->state = SLOT_FREE;
		}
		a->workers[j->worker].held--;
		job_free(j);
	}
}

/* Hands the newest waiting closes to the workers, AHEAD_JOB_MAX at most
 * a job and AHEAD_HELD jobs a worker: the rest wait in the ring, where a
 * batch that needs one takes it back for nothing. */
static void start_jobs(struct ahead *a)
{
	take_back(a);
	while (!a->stopped && a->tail != a->head) {
		struct ahead_worker *w = NULL;
		uint32_t want = a->tail - a->head;
		struct ahead_job *j;

		for (int i = 0; i < a->nworkers; i++)
			if (a->workers[i].held < AHEAD_HELD && (w == NULL || a->workers[i].held < w->held))
				w = &a->workers[i];
		if (w == NULL)
			break;
		if (want > AHEAD_JOB_MAX)
			want = AHEAD_JOB_MAX;
		j = xmalloc(sizeof(*j) + want * sizeof(j->e[0]));
		j->worker = w->index;
		j->n = 0;
		while (j->n < want && a->tail != a->head) {
			struct ahead_item *it = ring_at(a, --a->tail);
			struct ahead_slot *slot;
			struct ahead_entry *e;

			if (it->path == NULL)		/* a batch took it */
				continue;
			if ((slot = find(a, it->key)) != NULL && slot->state == SLOT_QUEUED &&
			    slot->seq == it->seq) {
				slot->job = j;
				slot->idx = (uint8_t)j->n;
			}
			e = &j->e[j->n++];
			e->item = *it;
			e->ok = 0;
			atomic_init(&e->skip, 0);
		}
		if (j->n == 0) {
			free(j);
			break;
		}
		w->held++;
		push(&w->inbox, j);
		uv_sem_post(&w->wake);	/* no system call while it is awake */
	}
	/* the rest when a worker is done */
	uv_timer_stop(&a->wait);
}

static void on_wait(uv_timer_t *h)
{
	start_jobs(h->data);
}

static void on_back(struct loopwake *lw)
{
	start_jobs(lw->data);
}

static struct ahead *ahead_new(struct sched *s)
{
	struct ahead *a = xcalloc(1, sizeof(*a));
	unsigned cores = uv_available_parallelism();
	int want = cores < 1 ? 1 : cores > AHEAD_WORKERS_MAX ? AHEAD_WORKERS_MAX : (int)cores;
	/* a worker's stack: a path, a digest and the calls below */
	uv_thread_options_t opt = { .flags = UV_THREAD_HAS_STACK_SIZE, .stack_size = 64 << 10 };

	a->s = s;
	a->slots = mmap(NULL, AHEAD_SETS * AHEAD_WAYS * sizeof(*a->slots),
	    PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (a->slots == MAP_FAILED) {
		free(a);
		return NULL;	/* nothing is hashed ahead */
	}
	if (loopwake_init(s->o.loop, &a->back, on_back, a) != 0) {
		munmap(a->slots, AHEAD_SETS * AHEAD_WAYS * sizeof(*a->slots));
		free(a);
		return NULL;	/* out of file descriptors: nothing is hashed ahead */
	}
	uv_unref((uv_handle_t *)&a->back.poll);	/* keeps no loop running */
	uv_timer_init(s->o.loop, &a->wait);
	a->wait.data = a;
	a->root = xstrdup(s->o.root);
	atomic_init(&a->cancel, 0);
	atomic_init(&a->done, NULL);
	for (int i = 0; i < want; i++) {
		struct ahead_worker *w = &a->workers[a->nworkers];

		w->a = a;
		w->index = a->nworkers;
		atomic_init(&w->inbox, NULL);
		if (uv_sem_init(&w->wake, 0) != 0)
			break;
		if (uv_thread_create_ex(&w->tid, &opt, worker_main, w) != 0) {
			uv_sem_destroy(&w->wake);
			break;
		}
		a->nworkers++;
	}
	return a;
}


void sched_file_closed(struct sched *s, const char *rel, uint64_t stamp)
{
	struct ahead *a = s->ahead;
	struct ahead_slot *slot;
	struct ahead_item *it;
	uint64_t key;

	if (s->shutting_down || (a == NULL && stamp == 0))
		return;
	if (a == NULL && (a = s->ahead = ahead_new(s)) == NULL)
		return;
	if (a->nworkers == 0)
		return;		/* no thread would start: hashed with the batch */
	key = hmap_hash(rel, strlen(rel));
	if ((slot = find(a, key)) != NULL)
		unqueue(a, slot);	/* what it stood for is gone */
	if (stamp == 0 || !any_gate_includes(s, rel) ||
	    (slot = claim(a, key, (uint32_t)uv_now(s->o.loop))) == NULL)
		return;
	if (a->tail - a->head == a->ring_alloc && a->ring_alloc < AHEAD_RING)
		ring_grow(a);
	if (a->tail - a->head == a->ring_alloc) {
		/* full: the oldest close is hashed with its batch instead */
		struct ahead_slot *old;

		it = ring_at(a, a->head++);
		if (it->path != NULL && (old = find(a, it->key)) != NULL && old->seq == it->seq)
			old->state = SLOT_FREE;
		free(it->path);
	}
	slot->key = key;
	slot->job = NULL;
	slot->seq = ++a->seq;
	slot->pos = a->tail;
	slot->state = SLOT_QUEUED;
	*ring_at(a, a->tail++) = (struct ahead_item){
		.path = xstrdup(rel), .key = key, .stamp = stamp, .seq = slot->seq,
	};
	if (a->tail - a->head >= AHEAD_JOB_MAX)
		start_jobs(a);
	else if (!uv_is_active((uv_handle_t *)&a->wait))
		uv_timer_start(&a->wait, on_wait, AHEAD_WAIT_MS, 0);
}

bool ahead_take(struct sched *s, const char *rel, char oid[OID_HEX + 1])
{
	struct ahead_slot *slot;

	if (s->ahead == NULL || s->ahead->stopped)
		return false;	/* stopped: its jobs, which slots name, are freed */
	take_back(s->ahead);
	if ((slot = find(s->ahead, hmap_hash(rel, strlen(rel)))) == NULL)
		return false;
	if (slot->state == SLOT_READY || slot->state == SLOT_TAKEN) {
		sha1_hex(slot->oid, oid);
		slot->state = SLOT_TAKEN;	/* another gate may take it too */
		return true;
	}
	/* still waiting, or held by a worker that may not get to it soon (it
	 * runs only on an idle core): the batch hashes it, and the worker's
	 * read would count for nothing */
	if (slot->state == SLOT_QUEUED)
		unqueue(s->ahead, slot);
	return false;
}

void ahead_stop(struct sched *s)
{
	struct ahead *a = s->ahead;

	if (a == NULL || a->stopped)
		return;
	a->stopped = true;
	atomic_store(&a->cancel, 1);
	for (int i = 0; i < a->nworkers; i++) {
		struct ahead_worker *w = &a->workers[i];
		struct sched_param normal = { 0 };
		struct ahead_job *j, *next;

		/* off SCHED_IDLE, so that a busy machine does not keep it from
		 * seeing the cancel (at most one read of a file follows) */
		(void)pthread_setschedparam(w->tid, SCHED_OTHER, &normal);
		uv_sem_post(&w->wake);
		uv_thread_join(&w->tid);
		uv_sem_destroy(&w->wake);
		for (j = atomic_exchange(&w->inbox, NULL); j != NULL; j = next) {
			next = j->next;
			job_free(j);
		}
	}
	a->nworkers = 0;
	for (struct ahead_job *j = atomic_exchange(&a->done, NULL), *next; j != NULL; j = next) {
		next = j->next;
		job_free(j);
	}
	for (; a->head != a->tail; a->head++)
		free(ring_at(a, a->head)->path);
	uv_close((uv_handle_t *)&a->wait, NULL);
	loopwake_close(&a->back, NULL, NULL);
}

void ahead_free(struct sched *s)
{
	struct ahead *a = s->ahead;

	if (a == NULL)
		return;
	/* ahead_stop joined the workers, and the loop has closed the
	 * handles since: nothing refers to a now */
	munmap(a->slots, AHEAD_SETS * AHEAD_WAYS * sizeof(*a->slots));
	free(a->ring);
	free(a->root);
	free(a);
	s->ahead = NULL;
}
