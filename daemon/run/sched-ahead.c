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
 * What is kept is bounded: AHEAD_SETS x AHEAD_WAYS slots of 40 bytes
 * (160 KiB, allocated at the first close), keyed by a 64-bit hash of the
 * path, each with the raw id. A newer close takes
 * its path's slot, else a free one of the set, else the set's oldest: a
 * burst bigger than the table loses its oldest ids, and those files are
 * hashed with their batch as before.
 * Only files some gate includes and of at most AHEAD_MAX_BYTES are hashed
 * ahead: a read nobody may need is not worth it for a big file, nor for
 * one no gate judges.
 *
 * Closes queue up while the loop handles a turn's events; a check handle
 * hands them to the pool when the turn ends, split between at most one
 * job per core (each job at least AHEAD_JOB_MIN of them). Batching them
 * further, 256 at a time or after 2 ms, made no difference to the CPU
 * and added its wait to the tail. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/blobid.h"
#include "lib/hmap.h"
#include "lib/sha1.h"
#include "lib/xmalloc.h"
#include "sched-internal.h"

#define AHEAD_WAYS	4
#define AHEAD_SETS	1024
#define AHEAD_QUEUE_MAX	4096			/* closes waiting for a job */
#define AHEAD_MAX_BYTES	((uint64_t)1 << 20)
#define AHEAD_JOB_MIN	64			/* closes worth a job of their own */
#define AHEAD_JOBS_MAX	4

enum { SLOT_FREE, SLOT_QUEUED, SLOT_READY };

struct ahead_slot {
	uint64_t	 key;		/* hmap_hash of the path */
	uint32_t	 seq;		/* which close: a job's answer for an older one is void */
	uint8_t		 state;
	unsigned char	 oid[20];
};

struct ahead_item {
	char		*path;		/* owned */
	uint64_t	 key, stamp;
	uint32_t	 seq;
	char		 oid[OID_HEX + 1];	/* the worker's answer, "" for none */
};

/* A run of closes hashed on the pool; the worker reads the items' paths and
 * stamps and writes their oids, nothing else is shared. */
struct ahead_job {
	uv_work_t	 req;
	struct ahead	*a;
	struct ahead_item *items;	/* owned */
	size_t		 n;
	int		 root_fd;	/* the job's own descriptor of ROOT, or -1 */
};

/* Owned by the scheduler (s->ahead) from the first close to sched_free. */
struct ahead {
	struct sched	*s;
	struct ahead_slot *slots;	/* AHEAD_SETS * AHEAD_WAYS */
	uint32_t	 seq;
	struct ahead_item *queue;	/* closes no job has taken yet */
	size_t		 nqueue, queue_alloc;
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

/* The slot a new close of key takes: its own, a free one, or the oldest. */
static struct ahead_slot *claim(struct ahead *a, uint64_t key)
{
	struct ahead_slot *set = a->slots + (key % AHEAD_SETS) * AHEAD_WAYS, *pick = NULL;

	for (int w = 0; w < AHEAD_WAYS; w++) {
		if (set[w].state != SLOT_FREE && set[w].key == key)
			return &set[w];
		if (pick == NULL || (pick->state != SLOT_FREE &&
		    (set[w].state == SLOT_FREE || set[w].seq < pick->seq)))
			pick = &set[w];
	}
	return pick;
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

	for (size_t i = 0; i < j->n; i++) {
		struct ahead_item *it = &j->items[i];
		uint64_t stamp;

		it->oid[0] = '\0';
		if (atomic_load(&j->a->cancel) || j->root_fd < 0)
			break;
		/* another stamp: written again since, and that event voids it */
		if (blobid_stamped(j->root_fd, it->path, AHEAD_MAX_BYTES, &j->a->cancel, it->oid,
		    &stamp) != 0 || stamp != it->stamp)
			it->oid[0] = '\0';
	}
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
			if (status == 0 && it->oid[0] != '\0') {
				unhex(it->oid, slot->oid);
				slot->state = SLOT_READY;
			} else
				slot->state = SLOT_FREE;
		}
		free(it->path);
	}
	free(j->items);
	if (j->root_fd >= 0)
		close(j->root_fd);
	free(j);
	a->jobs--;
	if (a->nqueue > 0 && !a->stopped)
		uv_check_start(&a->check, on_check);
}

/* Hands the queue to jobs, split evenly between the ones that may start
 * (each with at least AHEAD_JOB_MIN closes, or the rest). */
static void start_jobs(struct ahead *a)
{
	int fd;

	while (!a->stopped && a->nqueue > 0 && a->jobs < a->max_jobs) {
		size_t free_jobs = (size_t)(a->max_jobs - a->jobs);
		size_t n = (a->nqueue + free_jobs - 1) / free_jobs;
		struct ahead_job *j = xcalloc(1, sizeof(*j));

		if (n < AHEAD_JOB_MIN)
			n = a->nqueue < AHEAD_JOB_MIN ? a->nqueue : AHEAD_JOB_MIN;
		j->a = a;
		j->req.data = j;
		j->n = n;
		j->items = xmalloc(n * sizeof(*j->items));
		a->nqueue -= n;
		memcpy(j->items, a->queue + a->nqueue, n * sizeof(*j->items));
		/* ROOT may be replaced while the job runs: its own dup */
		fd = dirhold_fd(&a->s->root_dir);
		j->root_fd = fd >= 0 ? fcntl(fd, F_DUPFD_CLOEXEC, 0) : -1;
		a->jobs++;
		if (uv_queue_work(a->s->o.loop, &j->req, ahead_work, ahead_done) != 0) {
			/* cannot happen with a live loop: drop the closes
			 * (their batch hashes them) */
			for (size_t i = 0; i < j->n; i++)
				j->items[i].oid[0] = '\0';
			ahead_done(&j->req, UV_ECANCELED);
		}
	}
	/* the rest when a job is done */
	if (a->nqueue == 0 || a->jobs >= a->max_jobs)
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
	a->slots = xcalloc(AHEAD_SETS * AHEAD_WAYS, sizeof(*a->slots));
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
	uint64_t key;

	if (s->shutting_down || (a == NULL && stamp == 0))
		return;
	if (a == NULL)
		a = s->ahead = ahead_new(s);
	key = hmap_hash(rel, strlen(rel));
	if (stamp == 0 || a->nqueue == AHEAD_QUEUE_MAX || !any_gate_includes(s, rel)) {
		if ((slot = find(a, key)) != NULL)
			slot->state = SLOT_FREE;
		return;
	}
	a->queue = xgrow(a->queue, &a->queue_alloc, a->nqueue + 1, sizeof(*a->queue));
	slot = claim(a, key);
	slot->key = key;
	slot->seq = ++a->seq;
	slot->state = SLOT_QUEUED;
	a->queue[a->nqueue++] = (struct ahead_item){
		.path = xstrdup(rel), .key = key, .stamp = stamp, .seq = slot->seq,
	};
	if (a->jobs < a->max_jobs)
		uv_check_start(&a->check, on_check);	/* no-op when active */
}

bool ahead_take(struct sched *s, const char *rel, char oid[OID_HEX + 1])
{
	struct ahead_slot *slot;

	if (s->ahead == NULL)
		return false;
	slot = find(s->ahead, hmap_hash(rel, strlen(rel)));
	if (slot == NULL || slot->state != SLOT_READY)
		return false;
	sha1_hex(slot->oid, oid);
	return true;
}

void ahead_stop(struct sched *s)
{
	struct ahead *a = s->ahead;

	if (a == NULL || a->stopped)
		return;
	a->stopped = true;
	atomic_store(&a->cancel, 1);
	for (size_t i = 0; i < a->nqueue; i++)
		free(a->queue[i].path);
	a->nqueue = 0;
	uv_close((uv_handle_t *)&a->check, NULL);
}

void ahead_free(struct sched *s)
{
	struct ahead *a = s->ahead;

	if (a == NULL)
		return;
	/* jobs and the check handle report before the loop ends, and the
	 * loop has ended: nothing refers to a now */
	free(a->slots);
	free(a->queue);
	free(a);
	s->ahead = NULL;
}
