/* The team's result cache in a task's life. After the ledger has answered
 * what it could, the files left are looked up remotely, all at once under
 * one timeout:
 *   1. when the task has many files, the gate's index for exactly this set
 *      of files and contents, and its index at HEAD's commit: one entry
 *      (and one CAS blob) answers every file whose content is what CI
 *      judged;
 *   2. one action-cache entry per file still unanswered, in parallel;
 *   3. the CAS blobs of the entries too large to hold their record.
 * What comes back valid counts as a cache hit, and the ledger records it
 * like one, so the next lookup is local. After a task is recorded, what it
 * judged itself is uploaded, and a one-shot run over many files the index
 * of its set (and, when it judged every file of the gate, of its commit). A remote answer is never trusted more than a local
 * run: anything that fails a check is ignored, with one warning per run,
 * and its file is judged here. */
#include <stdlib.h>
#include <string.h>

#include "daemon/remote/acproto.h"
#include "daemon/remote/record.h"
#include "lib/hmap.h"
#include "lib/log.h"
#include "lib/xmalloc.h"
#include "sched-internal.h"
#include "verdict.h"

#define INDEX_MIN	16	/* files for which one index request pays */

enum step { ASK_INDEX, ASK_INDEX_BLOB, ASK_FILES, ASK_FILE_BLOBS };

struct remote_lookup {
	struct sched		*s;
	struct task		*t;
	enum step		 step;
	size_t			 n;		/* files asked about */
	size_t			*idx;		/* their index in t->files */
	char			(*keys)[SHA256_HEX + 1];
	struct remote_entry	*ents;
	signed char		*ok;		/* per file: 1 an entry to use */
	size_t			 nbad;
	const char		*why;		/* the first bad answer's fault */
	struct remote_get	*get;
	size_t			*asked;		/* step 2/3: which files a reply is for */
	char			(*blob)[SHA256_HEX + 1];	/* step 3: per file */
	uint64_t		*blob_size;
	char			 ixkeys[2][SHA256_HEX + 1];	/* set, commit */
	size_t			 nix;
	char			 ixkey[SHA256_HEX + 1];	/* the one that answered */
	char			 ixblob[SHA256_HEX + 1];
	uint64_t		 ixsize;
	uint64_t		 started;	/* loop time: all steps share one timeout */
};

static void lookup_free(struct remote_lookup *l)
{
	for (size_t k = 0; k < l->n; k++)
		remote_entry_release(&l->ents[k]);
	free(l->idx);
	free(l->keys);
	free(l->ents);
	free(l->ok);
	free(l->asked);
	free(l->blob);
	free(l->blob_size);
	free(l);
}

static void bad(struct remote_lookup *l, const char *why)
{
	if (l->nbad++ == 0)
		l->why = why;
}

/* Hits become the task's cached results; the rest run. */
static void lookup_done(struct remote_lookup *l)
{
	struct sched *s = l->s;
	struct task *t = l->t;
	size_t nuntried = 0, hits = 0;
	bool stop = t->superseded || s->shutting_down;

	t->rlookup = NULL;
	if (l->nbad)
		remote_warn(s->o.remote, t->run->id, "remote cache %s: %zu answer(s) ignored "
		    "(first: %s); those files are judged here", remote_url(s->o.remote), l->nbad,
		    l->why);
	for (size_t k = 0; k < l->n; k++) {
		size_t i = l->idx[k];
		struct remote_entry *e = &l->ents[k];

		if (stop) {
			/* as a stop while hashing: nothing judged, nothing cached */
			t->blobs[i][0] = '\0';
			t->keys[i][0] = '\0';
			continue;
		}
		if (!l->ok[k] || (t->gate->cache == GATE_CACHE_PASS_ONLY && e->status != GATE_PASS)) {
			t->untried[nuntried++] = t->files.v[i];
			continue;
		}
		{
			struct gate_result r = GATE_RESULT_INIT;

			r.status = e->status;
			r.findings = e->findings;
			e->findings = (struct findings){ 0 };
			verdict_merge(&t->agg, &r);
			gate_result_release(&r);
		}
		t->cached[i] = 1;
		t->verdict[i] = (signed char)e->status;
		if (t->judged_by == NULL)
			t->judged_by = xcalloc(t->files.n, sizeof(*t->judged_by));
		memcpy(t->judged_by[i], e->run_id, sizeof(t->judged_by[i]));
		if (t->remote_hit == NULL)
			t->remote_hit = xcalloc(t->files.n, 1);
		t->remote_hit[i] = 1;
		hits++;
	}
	t->remote_hits += hits;
	log_debug("run %s gate %s: remote cache asked about %zu file(s): %zu hit(s) in %llu ms",
	    t->run->id, t->gate->name, l->n, hits,
	    (unsigned long long)(uv_now(s->o.loop) - l->started));
	lookup_free(l);
	exec_task_untried(s, t, nuntried);
	sched_pump(s);
}

static void on_reply(void *arg, struct remote_reply *rep, size_t n);

/* Sends names under what is left of the timeout; false (and nothing sent)
 * when none is left. */
static bool ask(struct remote_lookup *l, enum step step, char **names, size_t n)
{
	struct remote *r = l->s->o.remote;
	long left = remote_timeout_ms(r) - (long)(uv_now(l->s->o.loop) - l->started);

	if (left <= 0 || n == 0 || l->t->superseded || l->s->shutting_down) {
		for (size_t i = 0; i < n; i++)
			free(names[i]);
		free(names);
		return false;
	}
	l->step = step;
	l->t->rlookup = l;
	l->get = remote_get_within(r, l->t->run->id, (const char *const *)names, n, left,
	    on_reply, l);
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return true;
}

/* Step 2: an action-cache entry for each file no answer covers yet. */
static void ask_files(struct remote_lookup *l)
{
	char **names = xcalloc(l->n ? l->n : 1, sizeof(*names));
	size_t m = 0;

	for (size_t k = 0; k < l->n; k++)
		if (!l->ok[k]) {
			l->asked[m] = k;
			names[m++] = xasprintf("ac/%s", l->keys[k]);
		}
	if (!ask(l, ASK_FILES, names, m))
		lookup_done(l);
}

/* The blob an entry names, checked against its digest. */
static int blob_ok(const struct remote_reply *rep, const char *hash, uint64_t size,
    const char **why)
{
	char got[SHA256_HEX + 1];

	if (rep->found != 1)
		return -1;	/* gone or unanswered: a miss */
	sha256_hex(rep->body.buf, rep->body.len, got);
	if (strcmp(got, hash) != 0 || rep->body.len != size) {
		*why = "a blob does not match its digest (corrupt or truncated)";
		return -2;
	}
	return 0;
}

static void got_index(struct remote_lookup *l, struct remote_reply *rep)
{
	struct task *t = l->t;
	struct remote_entry *v = NULL;
	size_t nv = 0;
	const char *why = NULL;
	struct hmap by_path = HMAP_INIT;
	int rc = blob_ok(rep, l->ixblob, l->ixsize, &why);

	if (rc == 0 && remote_index_decode(rep->body.buf, rep->body.len, l->ixkey,
	    t->gate->name, &v, &nv, &why) != 0)
		rc = -2;
	if (rc == -2)
		bad(l, why);
	if (rc != 0)
		return;
	for (size_t e = 0; e < nv; e++)
		hmap_puts(&by_path, v[e].path, &v[e]);
	for (size_t k = 0; k < l->n; k++) {
		struct remote_entry *e = hmap_gets(&by_path, t->files.v[l->idx[k]]);

		/* the index speaks for the content CI judged: a file whose
		 * content differs here is asked about on its own */
		if (e == NULL || strcmp(e->cache_key, t->keys[l->idx[k]]) != 0 || e->path == NULL)
			continue;
		l->ents[k] = *e;
		*e = (struct remote_entry){ 0 };
		l->ok[k] = 1;
	}
	hmap_release(&by_path);
	remote_entries_free(v, nv);
}

static void on_reply(void *arg, struct remote_reply *rep, size_t n)
{
	struct remote_lookup *l = arg;
	struct task *t = l->t;
	char **names;
	size_t m = 0;

	l->get = NULL;
	switch (l->step) {
	case ASK_INDEX: {
		struct ac_ref ref;
		const char *why;

		for (size_t x = 0; x < n && x < l->nix; x++) {
			if (rep[x].found != 1)
				continue;
			if (ac_unwrap(rep[x].body.buf, rep[x].body.len, &ref, &why) != 0 ||
			    ref.data != NULL) {
				bad(l, ref.data ? "an index is not a blob reference" : why);
				continue;
			}
			memcpy(l->ixkey, l->ixkeys[x], sizeof(l->ixkey));
			memcpy(l->ixblob, ref.hash, sizeof(l->ixblob));
			l->ixsize = ref.size;
			names = xcalloc(1, sizeof(*names));
			names[0] = xasprintf("cas/%s", ref.hash);
			if (ask(l, ASK_INDEX_BLOB, names, 1))
				return;
			break;
		}
		ask_files(l);
		return;
	}
	case ASK_INDEX_BLOB:
		if (n == 1)
			got_index(l, &rep[0]);
		ask_files(l);
		return;
	case ASK_FILES:
		names = xcalloc(n ? n : 1, sizeof(*names));
		for (size_t a = 0; a < n; a++) {
			size_t k = l->asked[a], i = l->idx[k];
			struct ac_ref ref;
			const char *why;

			if (rep[a].found != 1)
				continue;
			if (ac_unwrap(rep[a].body.buf, rep[a].body.len, &ref, &why) != 0) {
				bad(l, why);
				continue;
			}
			if (ref.data == NULL) {
				/* too large to sit in the entry: fetched next */
				memcpy(l->blob[k], ref.hash, sizeof(l->blob[k]));
				l->blob_size[k] = ref.size;
				names[m] = xasprintf("cas/%s", ref.hash);
				l->asked[m++] = k;
				continue;
			}
			if (remote_record_decode(ref.data, ref.len, l->keys[k], t->gate->name,
			    t->files.v[i], &l->ents[k], &why) != 0)
				bad(l, why);
			else
				l->ok[k] = 1;
		}
		if (!ask(l, ASK_FILE_BLOBS, names, m))
			lookup_done(l);
		return;
	case ASK_FILE_BLOBS:
		for (size_t a = 0; a < n; a++) {
			size_t k = l->asked[a], i = l->idx[k];
			const char *why = NULL;
			int rc = blob_ok(&rep[a], l->blob[k], l->blob_size[k], &why);

			if (rc == 0 && remote_record_decode(rep[a].body.buf, rep[a].body.len,
			    l->keys[k], t->gate->name, t->files.v[i], &l->ents[k], &why) != 0)
				rc = -2;
			if (rc == -2)
				bad(l, why);
			else if (rc == 0)
				l->ok[k] = 1;
		}
		lookup_done(l);
		return;
	}
}

/* The key of the index of exactly t's files as they are; "" when one of
 * them has no content id. */
static void set_key(const struct task *t, char out[SHA256_HEX + 1])
{
	const char **keys = xcalloc(t->files.n ? t->files.n : 1, sizeof(*keys));

	out[0] = '\0';
	for (size_t i = 0; i < t->files.n; i++) {
		if (t->keys[i][0] == '\0') {
			free(keys);
			return;
		}
		keys[i] = t->keys[i];
	}
	remote_set_key(t->gate->name, t->rfingerprint, (const char *const *)t->files.v, keys,
	    t->files.n, out);
	free(keys);
}

bool remote_lookup_start(struct sched *s, struct task *t, size_t nuntried)
{
	struct remote_lookup *l;
	char **names;

	if (!remote_reads(s->o.remote) || t->rfingerprint[0] == '\0')
		return false;
	l = xcalloc(1, sizeof(*l));
	l->s = s;
	l->t = t;
	l->idx = xcalloc(nuntried, sizeof(*l->idx));
	l->keys = xcalloc(nuntried, sizeof(*l->keys));
	/* untried[] points into files[] in order: a merge finds the indexes */
	for (size_t i = 0, u = 0; i < t->files.n && u < nuntried; i++) {
		if (t->files.v[i] != t->untried[u])
			continue;
		u++;
		if (t->keys[i][0] == '\0')
			continue;	/* no content id: nothing to ask */
		l->idx[l->n] = i;
		remote_key(t->gate->name, t->rfingerprint, t->files.v[i], t->keys[i],
		    l->keys[l->n]);
		l->n++;
	}
	if (l->n < nuntried) {
		/* files without a key are judged here in any case; keep it
		 * simple and ask only when every untried file has one */
		lookup_free(l);
		return false;
	}
	l->started = uv_now(s->o.loop);
	l->ents = xcalloc(l->n, sizeof(*l->ents));
	l->ok = xcalloc(l->n, 1);
	l->asked = xcalloc(l->n, sizeof(*l->asked));
	l->blob = xcalloc(l->n, sizeof(*l->blob));
	l->blob_size = xcalloc(l->n, sizeof(*l->blob_size));
	if (l->n >= INDEX_MIN) {
		set_key(t, l->ixkeys[l->nix]);
		l->nix += l->ixkeys[l->nix][0] != '\0';
		if (t->run->head[0])
			remote_index_key(t->gate->name, t->rfingerprint, t->run->head,
			    l->ixkeys[l->nix++]);
		names = xcalloc(2, sizeof(*names));
		for (size_t x = 0; x < l->nix; x++)
			names[x] = xasprintf("ac/%s", l->ixkeys[x]);
		if (ask(l, ASK_INDEX, names, l->nix))
			return true;
	}
	t->rlookup = l;
	ask_files(l);
	return true;
}

void remote_lookup_abort(struct task *t)
{
	if (t->rlookup && t->rlookup->get)
		remote_get_abort(t->rlookup->get);
}

/* ---- uploads ------------------------------------------------------------- */

/* Stores data (taken) as an action-cache entry under key: inline when it
 * is small, else as a CAS blob the entry names. */
static void put_entry(struct sched *s, struct task *t, const char *key, struct buf *data)
{
	struct buf ac = BUF_INIT;
	char *name;

	if (data->len <= AC_INLINE_MAX) {
		ac_wrap_inline(data->buf, data->len, &ac);
		buf_release(data);
	} else {
		char hash[SHA256_HEX + 1];
		size_t len = data->len;

		sha256_hex(data->buf, data->len, hash);
		name = xasprintf("cas/%s", hash);
		remote_put(s->o.remote, t->run->id, name, data);
		free(name);
		ac_wrap_digest(hash, len, &ac);
	}
	name = xasprintf("ac/%s", key);
	remote_put(s->o.remote, t->run->id, name, &ac);
	free(name);
}

/* The task's findings by path (then in their order): each file's own are
 * one run of this array, found by bisection, not by a scan per file. */
static int by_path(const void *a, const void *b)
{
	const struct finding *x = *(const struct finding *const *)a;
	const struct finding *y = *(const struct finding *const *)b;
	int c = strcmp(x->path ? x->path : "", y->path ? y->path : "");

	return c ? c : (x < y ? -1 : x > y);
}

/* File i's result as an entry: the status the ledger caches for it and
 * its own findings (sorted: by_path). False when it has none to share. */
static bool entry_of(struct sched *s, struct task *t, size_t i,
    const struct finding *const *sorted, size_t nsorted, struct remote_entry *e)
{
	int st = verdict_cache_status(t->verdict[i], t->gate->cache, s->o.no_cache,
	    t->keys[i][0] != '\0');
	const char *path = t->files.v[i];
	size_t lo = 0, hi = nsorted;

	memset(e, 0, sizeof(*e));
	if (st < 0)
		return false;
	e->path = (char *)path;
	memcpy(e->cache_key, t->keys[i], sizeof(e->cache_key));
	e->status = (enum gate_status)st;
	memcpy(e->run_id, t->cached[i] && t->judged_by ? t->judged_by[i] : t->run->id,
	    sizeof(e->run_id));
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(sorted[mid]->path ? sorted[mid]->path : "", path) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < nsorted && sorted[lo]->path && strcmp(sorted[lo]->path, path) == 0; lo++)
		findings_add(&e->findings, sorted[lo]);
	return true;
}

/* Which indexes a run uploads: one-shot runs of many files the index of
 * their set; those over every file of the gate (run, ci without --base)
 * that of HEAD's commit too. The daemon uploads none, and a partial run
 * no commit index: it would replace a whole one with a part. */
static bool set_index_worthy(struct sched *s, struct task *t)
{
	return t->files.n >= INDEX_MIN && strcmp(s->o.trigger, "watch") != 0;
}

static bool commit_index_worthy(struct sched *s, struct task *t)
{
	struct strvec all = STRVEC_INIT;
	size_t included = 0;

	if (!set_index_worthy(s, t) || t->run->head[0] == '\0' || s->o.list_files == NULL ||
	    strcmp(s->o.trigger, "hook") == 0)
		return false;
	s->o.list_files(s->o.list_arg, t->gate, &all);
	for (size_t i = 0; i < all.n; i++)
		included += gate_matches(t->gate, all.v[i]);
	strvec_clear(&all);
	return included == t->files.n;
}

void remote_upload(struct sched *s, struct task *t)
{
	struct remote_entry *ix;
	const struct finding **sorted;
	size_t nix = 0, nf = t->agg.findings.n;
	bool index = !t->superseded && set_index_worthy(s, t);

	if (t->rfingerprint[0] == '\0' || t->superseded)
		return;
	sorted = xcalloc(nf ? nf : 1, sizeof(*sorted));
	for (size_t f = 0; f < nf; f++)
		sorted[f] = &t->agg.findings.v[f];
	qsort(sorted, nf, sizeof(*sorted), by_path);
	ix = index ? xcalloc(t->files.n, sizeof(*ix)) : NULL;
	for (size_t i = 0; i < t->files.n; i++) {
		struct remote_entry e;
		struct buf rec = BUF_INIT;
		char key[SHA256_HEX + 1];

		if (!entry_of(s, t, i, sorted, nf, &e))
			continue;
		if (!t->cached[i]) {
			remote_key(t->gate->name, t->rfingerprint, t->files.v[i], t->keys[i], key);
			remote_record_encode(key, t->gate->name, &e, &rec);
			put_entry(s, t, key, &rec);
		}
		if (ix)
			ix[nix++] = e;
		else
			findings_release(&e.findings);
	}
	if (ix && nix) {
		struct buf body = BUF_INIT, copy = BUF_INIT;
		char key[SHA256_HEX + 1];

		set_key(t, key);
		if (key[0]) {
			remote_index_encode(key, t->gate->name, "", ix, nix, &body);
			put_entry(s, t, key, &body);
		}
		if (commit_index_worthy(s, t)) {
			remote_index_key(t->gate->name, t->rfingerprint, t->run->head, key);
			remote_index_encode(key, t->gate->name, t->run->head, ix, nix, &copy);
			put_entry(s, t, key, &copy);
		}
	}
	for (size_t k = 0; k < nix; k++)
		findings_release(&ix[k].findings);
	free(ix);
	free(sorted);
}
