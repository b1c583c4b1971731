/* Content ids taken ahead of the batch. A file whose writer closed it goes
 * out debounce_ms later at the earliest; it is hashed during that wait,
 * on libuv's thread pool, and hash_start takes that id instead of reading
 * the file again. A 10,000-file burst's last batch hashed 300-900 files
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
 * for the pool (32 bytes each and their paths). Only files some gate
 * includes and of at most AHEAD_MAX_BYTES are hashed ahead: a read nobody
 * may need is not worth it for a big file, nor for one no gate judges.
 *
 * Nothing hashed twice, nothing hashed for nothing. With 20,000 rewrites
 * at full speed on two cores (the writer on one), closes came faster than
 * the pool hashed them and faster than batches went out: newer closes
 * took the slots of ids not used yet, batches hashed those files again,
 * and the daemon's CPU rose by a quarter. So:
 *   - a close takes a free slot, or one whose id a batch has used
 *     (TAKEN), or one unused for AHEAD_STALE_MS (a close that changed
 *     nothing goes out in no batch); with none left it is not hashed
 *     ahead, and its batch hashes it as before;
 *   - the pool takes the newest closes first, and a batch that needs a
 *     file still waiting in the ring takes it out and hashes it itself;
 *     only what a job already holds (AHEAD_JOB_MAX) can be hashed twice;
 *   - a full ring pushes its oldest close out, unhashed.
 *
 * Closes queue up while the loop handles a turn's events; a check handle
 * hands them to the pool when the turn ends, at most one job per core. */
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lib/blobid.h"
#include "lib/hmap.h"
#include "lib/sha1.h"
#include "lib/xmalloc.h"
#include "sched-internal.h"

#define AHEAD_WAYS	4
#define AHEAD_SETS	512
#define AHEAD_RING	1024			/* a power of two */
#define AHEAD_STALE_MS	30000			/* an id no batch used by then */
#define AHEAD_MAX_BYTES	((uint64_t)1 << 20)
#define AHEAD_JOB_MAX	128
#define AHEAD_JOBS_MAX	4

enum { SLOT_FREE, SLOT_QUEUED, SLOT_READY, SLOT_TAKEN };

struct ahead_slot {
	uint64_t	 key;		/* hmap_hash of the path */
	uint32_t	 seq;		/* which close: a job's answer for an older one is void */
	uint32_t	 pos;		/* QUEUED: where in the ring (mod 2^32) */
	uint32_t	 at;		/* READY: when (loop ms, mod 2^32) */
	uint8_t		 state;
	unsigned char	 oid[20];	/* READY, TAKEN: the id */
};

struct ahead_item {
	char		*path;		/* owned; NULL: taken out of the ring */
	uint64_t	 key, stamp;
	uint32_t	 seq;
};

/* A run of closes hashed on the pool; the worker reads the items and
 * writes oids, nothing else is shared. */
struct ahead_job {
	uv_work_t	 req;
	struct ahead	*a;
	struct ahead_item items[AHEAD_JOB_MAX];	/* paths owned */
	char		 oids[AHEAD_JOB_MAX][OID_HEX + 1];	/* "" for none */
	size_t		 n;
	int		 root_fd;	/* the job's own descriptor of ROOT, or -1 */
};

/* Owned by the scheduler (s->ahead) from the first close to sched_free. */
struct ahead {
	struct sched	*s;
	struct ahead_slot *slots;	/* AHEAD_SETS * AHEAD_WAYS */
	uint32_t	 seq;
	struct ahead_item *ring;	/* waiting are [head, tail) */
	size_t		 ring_alloc;	/* grows to AHEAD_RING */
	uint32_t	 head, tail;	/* counts, taken mod ring_alloc */
	uv_check_t	 check;		/* active while closes wait for a job */
	int		 jobs, max_jobs;	/* in flight, at most */
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

	if (slot->state != SLOT_QUEUED ||
	    (uint32_t)(slot->pos - a->head) >= (uint32_t)(a->tail - a->head))
		return NULL;
	it = ring_at(a, slot->pos);
	return it->path != NULL && it->seq == slot->seq ? it : NULL;
}

/* Takes the waiting close of slot out of the ring (nobody will hash it
 * ahead now) and frees the slot. */
static void unqueue(struct ahead *a, struct ahead_slot *slot)
{
	struct ahead_item *it = waiting(a, slot);

	if (it != NULL) {
		free(it->path);
		it->path = NULL;
	}
	slot->state = SLOT_FREE;
}

static bool any_gate_includes(const struct sched *s, const char *rel)
{
	for (size_t i = 0; i < s->o.cfg->ngates; i++)
		if (gate_matches(&s->o.cfg->gates[i], rel))
			return true;
	return false;
}

static void ahead_work(uv_work_t *req)
{
	struct ahead_job *j = req->data;
	struct sched_param idle = { 0 }, was;
	int policy;

	/* Speculative work: the pool thread runs it only on a core nothing
	 * else wants (SCHED_IDLE), and is given back as it was. */
	if (pthread_getschedparam(pthread_self(), &policy, &was) != 0 ||
	    pthread_setschedparam(pthread_self(), SCHED_IDLE, &idle) != 0)
		policy = -1;
	for (size_t i = 0; i < j->n; i++) {
		struct ahead_item *it = &j->items[i];
		uint64_t stamp;

		if (atomic_load(&j->a->cancel) || j->root_fd < 0)
			break;
		/* another stamp: written again since, and that event voids it */
		if (blobid_stamped(j->root_fd, it->path, AHEAD_MAX_BYTES, &j->a->cancel, j->oids[i],
		    &stamp) != 0 || stamp != it->stamp)
			j->oids[i][0] = '\0';
	}
	if (policy != -1)
		(void)pthread_setschedparam(pthread_self(), policy, &was);
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

static void on_check(uv_check_t *h);

static void ahead_done(uv_work_t *req, int status)
{
	struct ahead_job *j = req->data;
	struct ahead *a = j->a;

	for (size_t i = 0; i < j->n; i++) {
		struct ahead_item *it = &j->items[i];
		struct ahead_slot *slot = find(a, it->key);

		/* a later close or another event has had the slot since */
		if (slot != NULL && slot->state == SLOT_QUEUED && slot->seq == it->seq) {
			if (status == 0 && j->oids[i][0] != '\0') {
				unhex(j->oids[i], slot->oid);
				slot->state = SLOT_READY;
				slot->at = (uint32_t)uv_now(a->s->o.loop);
			} else
				slot->state = SLOT_FREE;
		}
		free(it->path);
	}
	if (j->root_fd >= 0)
		close(j->root_fd);
	free(j);
	a->jobs--;
	if (a->tail != a->head && !a->stopped)
		uv_check_start(&a->check, on_check);
}

/* Hands the newest waiting closes to jobs, AHEAD_JOB_MAX at most each. */
static void start_jobs(struct ahead *a)
{
	int fd;

	while (!a->stopped && a->tail != a->head && a->jobs < a->max_jobs) {
		struct ahead_job *j = xmalloc(sizeof(*j));

		j->a = a;
		j->req.data = j;
		j->n = 0;
		while (j->n < AHEAD_JOB_MAX && a->tail != a->head) {
			struct ahead_item *it = ring_at(a, --a->tail);

			if (it->path != NULL) {		/* else a batch took it */
				j->oids[j->n][0] = '\0';
				j->items[j->n++] = *it;
			}
		}
		if (j->n == 0) {
			free(j);
			break;
		}
		/* ROOT may be replaced while the job runs: its own dup */
		fd = dirhold_fd(&a->s->root_dir);
		j->root_fd = fd >= 0 ? fcntl(fd, F_DUPFD_CLOEXEC, 0) : -1;
		a->jobs++;
		if (uv_queue_work(a->s->o.loop, &j->req, ahead_work, ahead_done) != 0)
			ahead_done(&j->req, UV_ECANCELED);	/* cannot happen with a live loop */
	}
	/* the rest when a job is done */
	if (a->tail == a->head || a->jobs >= a->max_jobs)
		uv_check_stop(&a->check);
}

static void on_check(uv_check_t *h)
{
	start_jobs(h->data);
}

static struct ahead *ahead_new(struct sched *s)
{
	struct ahead *a = xcalloc(1, sizeof(*a));
	unsigned cores = uv_available_parallelism();

	a->s = s;
	a->slots = mmap(NULL, AHEAD_SETS * AHEAD_WAYS * sizeof(*a->slots),
	    PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (a->slots == MAP_FAILED) {
		free(a);
		return NULL;	/* nothing is hashed ahead */
	}
	a->max_jobs = cores < 1 ? 1 : cores > AHEAD_JOBS_MAX ? AHEAD_JOBS_MAX : (int)cores;
	atomic_init(&a->cancel, 0);
	uv_check_init(s->o.loop, &a->check);
	a->check.data = a;
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
	slot->seq = ++a->seq;
	slot->pos = a->tail;
	slot->state = SLOT_QUEUED;
	*ring_at(a, a->tail++) = (struct ahead_item){
		.path = xstrdup(rel), .key = key, .stamp = stamp, .seq = slot->seq,
	};
	if (a->jobs < a->max_jobs)
		uv_check_start(&a->check, on_check);	/* no-op when active */
}

bool ahead_take(struct sched *s, const char *rel, char oid[OID_HEX + 1])
{
	struct ahead_slot *slot;

	if (s->ahead == NULL ||
	    (slot = find(s->ahead, hmap_hash(rel, strlen(rel)))) == NULL)
		return false;
	if (slot->state == SLOT_READY || slot->state == SLOT_TAKEN) {
		sha1_hex(slot->oid, oid);
		slot->state = SLOT_TAKEN;	/* another gate may take it too */
		return true;
	}
	/* still waiting: the batch hashes it, the pool need not (one a job
	 * holds stays QUEUED: its id may serve another gate) */
	if (waiting(s->ahead, slot) != NULL)
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
	for (; a->head != a->tail; a->head++)
		free(ring_at(a, a->head)->path);
	uv_close((uv_handle_t *)&a->check, NULL);
}

void ahead_free(struct sched *s)
{
	struct ahead *a = s->ahead;

	if (a == NULL)
		return;
	/* jobs and the check handle report before the loop ends, and the
	 * loop has ended: nothing refers to a now */
	munmap(a->slots, AHEAD_SETS * AHEAD_WAYS * sizeof(*a->slots));
	free(a->ring);
	free(a);
	s->ahead = NULL;
}
