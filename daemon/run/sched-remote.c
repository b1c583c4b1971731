/* The team's result cache in a task's life: after the ledger has answered
 * what it could, the files left are looked up remotely (records, then any
 * findings blob they name), in one parallel batch under the server's
 * timeout; what comes back valid counts as a cache hit, and the ledger
 * records it like one, so the next lookup is local. After a task is
 * recorded, what it judged itself is uploaded. A remote answer is never
 * trusted more than a local run: a record that fails any check is
 * ignored, with one warning per run, and its file is judged here. */
#include <stdlib.h>
#include <string.h>

#include "daemon/remote/record.h"
#include "lib/log.h"
#include "lib/xmalloc.h"
#include "sched-internal.h"
#include "verdict.h"

struct remote_lookup {
	struct sched		*s;
	struct task		*t;
	size_t			 n;		/* files asked about */
	size_t			*idx;		/* their index in t->files */
	char			(*keys)[SHA256_HEX + 1];
	struct remote_record	*recs;
	signed char		*ok;		/* per file: 1 a record to use */
	size_t			 nbad;
	const char		*why;		/* the first bad record's fault */
	struct remote_get	*get;
	size_t			*cas;		/* files whose findings are a blob */
	size_t			 ncas;
	uint64_t		 started;	/* loop time: both steps share one timeout */
};

static void lookup_free(struct remote_lookup *l)
{
	for (size_t k = 0; k < l->n; k++)
		findings_release(&l->recs[k].findings);
	free(l->idx);
	free(l->keys);
	free(l->recs);
	free(l->ok);
	free(l->cas);
	free(l);
}

static void bad(struct remote_lookup *l, size_t k, const char *why)
{
	l->ok[k] = 0;
	findings_release(&l->recs[k].findings);
	if (l->nbad++ == 0)
		l->why = why;
}

/* Hits become the task's cached results; the rest run. */
static void lookup_done(struct remote_lookup *l)
{
	struct sched *s = l->s;
	struct task *t = l->t;
	size_t nuntried = 0;
	bool stop = t->superseded || s->shutting_down;

	t->rlookup = NULL;
	if (l->nbad)
		remote_warn(s->o.remote, t->run->id, "remote cache %s: %zu record(s) ignored "
		    "(first: %s); those files are judged here", remote_url(s->o.remote), l->nbad,
		    l->why);
	for (size_t k = 0; k < l->n; k++) {
		size_t i = l->idx[k];
		struct remote_record *rec = &l->recs[k];

		if (stop) {
			/* as a stop while hashing: nothing judged, nothing cached */
			t->blobs[i][0] = '\0';
			t->keys[i][0] = '\0';
			continue;
		}
		if (!l->ok[k] ||
		    (t->gate->cache == GATE_CACHE_PASS_ONLY && rec->status != GATE_PASS)) {
			t->untried[nuntried++] = t->files.v[i];
			continue;
		}
		{
			struct gate_result r = GATE_RESULT_INIT;

			r.status = rec->status;
			r.findings = rec->findings;
			rec->findings = (struct findings){ 0 };
			verdict_merge(&t->agg, &r);
			gate_result_release(&r);
		}
		t->cached[i] = 1;
		t->verdict[i] = (signed char)rec->status;
		if (t->judged_by == NULL)
			t->judged_by = xcalloc(t->files.n, sizeof(*t->judged_by));
		memcpy(t->judged_by[i], rec->run_id, sizeof(t->judged_by[i]));
		if (t->remote_hit == NULL)
			t->remote_hit = xcalloc(t->files.n, 1);
		t->remote_hit[i] = 1;
		t->remote_hits++;
	}
	log_debug("run %s gate %s: remote cache asked about %zu file(s): %zu hit(s) in %llu ms",
	    t->run->id, t->gate->name, l->n, l->n - nuntried,
	    (unsigned long long)(uv_now(s->o.loop) - l->started));
	lookup_free(l);
	exec_task_untried(s, t, nuntried);
	sched_pump(s);
}

static void on_cas(void *arg, struct remote_reply *rep, size_t n)
{
	struct remote_lookup *l = arg;

	l->get = NULL;
	for (size_t c = 0; c < n; c++) {
		size_t k = l->cas[c];
		const char *why;

		if (rep[c].found != 1)
			l->ok[k] = 0;	/* gone or unanswered: a miss */
		else if (remote_findings_decode(rep[c].body.buf, rep[c].body.len, &l->recs[k],
		    &why) != 0)
			bad(l, k, why);
	}
	lookup_done(l);
}

static void on_ac(void *arg, struct remote_reply *rep, size_t n)
{
	struct remote_lookup *l = arg;
	struct task *t = l->t;
	char **names;
	long elapsed;

	l->get = NULL;
	l->cas = xcalloc(n ? n : 1, sizeof(*l->cas));
	for (size_t k = 0; k < n; k++) {
		const char *why;
		size_t i = l->idx[k];

		if (rep[k].found != 1)
			continue;
		if (remote_record_decode(rep[k].body.buf, rep[k].body.len, l->keys[k],
		    t->gate->name, t->files.v[i], &l->recs[k], &why) != 0) {
			bad(l, k, why);
			continue;
		}
		l->ok[k] = 1;
		if (l->recs[k].cas[0])
			l->cas[l->ncas++] = k;
	}
	elapsed = (long)(uv_now(t->s->o.loop) - l->started);
	if (l->ncas == 0 || t->superseded || t->s->shutting_down ||
	    elapsed >= remote_timeout_ms(t->s->o.remote)) {
		for (size_t c = 0; c < l->ncas; c++)
			l->ok[l->cas[c]] = 0;	/* no time left for their findings */
		lookup_done(l);
		return;
	}
	names = xcalloc(l->ncas, sizeof(*names));
	for (size_t c = 0; c < l->ncas; c++)
		names[c] = xasprintf("cas/%s", l->recs[l->cas[c]].cas);
	t->rlookup = l;
	l->get = remote_get_within(t->s->o.remote, t->run->id, (const char *const *)names,
	    l->ncas, remote_timeout_ms(t->s->o.remote) - elapsed, on_cas, l);
	for (size_t c = 0; c < l->ncas; c++)
		free(names[c]);
	free(names);
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
	l->recs = xcalloc(l->n, sizeof(*l->recs));
	l->ok = xcalloc(l->n, 1);
	names = xcalloc(l->n, sizeof(*names));
	for (size_t k = 0; k < l->n; k++)
		names[k] = xasprintf("ac/%s", l->keys[k]);
	t->rlookup = l;
	l->get = remote_get(s->o.remote, t->run->id, (const char *const *)names, l->n, on_ac, l);
	for (size_t k = 0; k < l->n; k++)
		free(names[k]);
	free(names);
	return true;
}

void remote_lookup_abort(struct task *t)
{
	if (t->rlookup && t->rlookup->get)
		remote_get_abort(t->rlookup->get);
}

void remote_upload(struct sched *s, struct task *t)
{
	if (t->rfingerprint[0] == '\0' || t->superseded)
		return;
	for (size_t i = 0; i < t->files.n; i++) {
		int st = verdict_cache_status(t->verdict[i], t->gate->cache, s->o.no_cache,
		    t->keys[i][0] != '\0');
		struct remote_record rec;
		struct buf body = BUF_INIT, blob = BUF_INIT;
		char key[SHA256_HEX + 1], *name;

		if (t->cached[i] || st < 0)
			continue;
		remote_key(t->gate->name, t->rfingerprint, t->files.v[i], t->keys[i], key);
		memset(&rec, 0, sizeof(rec));
		rec.key = key;
		rec.gate = t->gate->name;
		rec.path = t->files.v[i];
		rec.status = (enum gate_status)st;
		memcpy(rec.run_id, t->run->id, sizeof(rec.run_id));
		/* the file's own findings, as the ledger's cache gives them */
		for (size_t f = 0; f < t->agg.findings.n; f++) {
			const struct finding *fd = &t->agg.findings.v[f];

			if (fd->path && strcmp(fd->path, t->files.v[i]) == 0)
				findings_add(&rec.findings, fd);
		}
		remote_record_encode(&rec, &body, &blob);
		findings_release(&rec.findings);
		if (rec.cas[0]) {
			name = xasprintf("cas/%s", rec.cas);
			remote_put(s->o.remote, t->run->id, name, &blob);
			free(name);
		}
		name = xasprintf("ac/%s", key);
		remote_put(s->o.remote, t->run->id, name, &body);
		free(name);
		buf_release(&blob);
	}
}
