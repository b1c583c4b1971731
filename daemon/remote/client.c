/* HTTP for the remote cache (see client.h): batches of GETs with one
 * deadline, a queue of PUTs, and the back-off that keeps a failing server
 * from costing every run its timeout. Every transfer is an easy handle on
 * one curl multi driven by the loop (lib/curluv). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "daemon/version.h"
#include "lib/curluv.h"
#include "lib/ulid.h"
#include "lib/xmalloc.h"
#include "client.h"

#define MAX_CONNS	16		/* parallel transfers; the rest queue in curl */
#define BODY_MAX	(64 << 20)	/* a reply larger than this is not read */
#define BACKOFF_FIRST	60000
#define BACKOFF_MAX	3600000
#define WARNED_KEEP	8		/* runs already warned for */

struct remote {
	uv_loop_t		*loop;
	struct curluv		*cu;
	char			*base;		/* no trailing '/' */
	char			*shown;		/* base without credentials */
	struct curl_slist	*headers;	/* holds the token: never logged */
	bool			 read, write;
	long			 timeout_ms;
	char			*state_path;
	int64_t			 down_until;	/* CLOCK_REALTIME ms; 0: up */
	int64_t			 backoff;
	char			*last_error;
	remote_warn_fn		*warn;
	void			*warn_arg;
	char			 warned[WARNED_KEEP][ULID_LEN + 1];
	int			 warned_next;
	struct remote_get	*gets;		/* batches not yet called back */
	uint64_t		 asked_from, asked_to;	/* loop times: reads waited on */
	size_t			 puts;		/* uploads in flight */
	struct remote_stats	 st;
};

struct xfer {
	struct remote		*r;
	struct remote_get	*g;		/* NULL for an upload */
	size_t			 idx;		/* the reply it fills */
	CURL			*easy;
	struct buf		 data;		/* reply, or the bytes to upload */
	size_t			 sent;
	bool			 too_big;
	char			 run_id[ULID_LEN + 1];
	struct xfer		*next;		/* g->xfers */
};

struct remote_get {
	struct remote		*r;
	char			 run_id[ULID_LEN + 1];
	struct remote_reply	*replies;
	size_t			 n, left;
	struct xfer		*xfers;		/* in flight */
	remote_got_fn		*cb;
	void			*arg;
	uv_timer_t		 timer;		/* the deadline, then the callback */
	bool			 finished;
	struct remote_get	*prev, *next;
};

static int64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void state_load(struct remote *r)
{
	FILE *f;
	long long until, backoff;

	if (r->state_path == NULL || (f = fopen(r->state_path, "r")) == NULL)
		return;
	if (fscanf(f, "%lld %lld ", &until, &backoff) == 2 && until > wall_ms() &&
	    backoff >= BACKOFF_FIRST && backoff <= BACKOFF_MAX) {
		char why[256];

		r->down_until = until;
		r->backoff = backoff;
		if (fgets(why, sizeof(why), f) && why[0] && why[0] != '\n') {
			why[strcspn(why, "\n")] = '\0';
			r->last_error = xstrdup(why);
		}
	}
	fclose(f);
}

/* Written whole and renamed over, so another process never reads half. */
static void state_save(struct remote *r)
{
	char *tmp;
	FILE *f;

	if (r->state_path == NULL)
		return;
	if (r->down_until == 0) {
		unlink(r->state_path);
		return;
	}
	tmp = xasprintf("%s.%ld", r->state_path, (long)getpid());
	if ((f = fopen(tmp, "w")) != NULL) {
		fprintf(f, "%lld %lld %s\n", (long long)r->down_until, (long long)r->backoff,
		    r->last_error ? r->last_error : "");
		if (fclose(f) == 0 && rename(tmp, r->state_path) == 0) {
			free(tmp);
			return;
		}
	}
	unlink(tmp);
	free(tmp);
}

void remote_warn(struct remote *r, const char *run_id, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	if (run_id && run_id[0] == '\0')
		run_id = NULL;	/* no run: always told */
	for (int i = 0; i < WARNED_KEEP; i++)
		if (run_id && strcmp(r->warned[i], run_id) == 0)
			return;
	if (run_id) {
		snprintf(r->warned[r->warned_next], sizeof(r->warned[0]), "%s", run_id);
		r->warned_next = (r->warned_next + 1) % WARNED_KEEP;
	}
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (r->warn)
		r->warn(r->warn_arg, msg);
}

/* "http://user:pw@host/x" -> "http://host/x" */
static char *strip_credentials(const char *url)
{
	const char *s = strstr(url, "://"), *host, *at, *slash;

	if (s == NULL)
		return xstrdup(url);
	host = s + 3;
	slash = strchr(host, '/');
	at = memchr(host, '@', slash ? (size_t)(slash - host) : strlen(host));
	if (at == NULL)
		return xstrdup(url);
	return xasprintf("%.*s%s", (int)(host - url), url, at + 1);
}

struct remote *remote_new(uv_loop_t *loop, const struct remote_opts *o, remote_warn_fn *warn,
    void *warn_arg, const char **why)
{
	struct remote *r;
	size_t n;

	if (strncmp(o->url, "http://", 7) != 0 && strncmp(o->url, "https://", 8) != 0) {
		*why = "the URL is not http:// or https://";
		return NULL;
	}
	r = xcalloc(1, sizeof(*r));
	if ((r->cu = curluv_new(loop, MAX_CONNS, why)) == NULL) {
		free(r);
		return NULL;
	}
	r->loop = loop;
	n = strlen(o->url);
	while (n > 0 && o->url[n - 1] == '/')
		n--;
	r->base = xstrndup(o->url, n);
	r->shown = strip_credentials(r->base);
	r->read = o->read;
	r->write = o->write;
	r->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : 2000;
	r->state_path = o->state_path ? xstrdup(o->state_path) : NULL;
	r->backoff = BACKOFF_FIRST;
	r->warn = warn;
	r->warn_arg = warn_arg;
	/* a PUT waits for no "100 Continue" */
	r->headers = curl_slist_append(NULL, "Expect:");
	if (o->token && o->token[0]) {
		char *h = xasprintf("Authorization: Bearer %s", o->token);

		r->headers = curl_slist_append(r->headers, h);
		memset(h, 0, strlen(h));
		free(h);
	}
	state_load(r);
	return r;
}

const char *remote_url(const struct remote *r)
{
	return r->shown;
}

bool remote_reads(const struct remote *r)
{
	return r && r->read;
}

bool remote_writes(const struct remote *r)
{
	return r && r->write;
}

bool remote_down(const struct remote *r)
{
	return r->down_until != 0 && wall_ms() < r->down_until;
}

int64_t remote_retry_at(const struct remote *r, const char **why)
{
	*why = r->last_error;
	return remote_down(r) ? r->down_until : 0;
}

void remote_stats(const struct remote *r, struct remote_stats *out)
{
	*out = r->st;
}

size_t remote_pending(const struct remote *r)
{
	return r->puts;
}

/* The server failed: stop asking for a while, end what is in flight. */
static void trip(struct remote *r, const char *run_id, const char *what)
{
	r->st.failures++;
	free(r->last_error);
	r->last_error = xstrdup(what);
	if (!remote_down(r)) {
		if (r->down_until != 0)
			r->backoff = r->backoff * 2 > BACKOFF_MAX ? BACKOFF_MAX : r->backoff * 2;
		r->down_until = wall_ms() + r->backoff;
		state_save(r);
		remote_warn(r, run_id, "remote cache %s: %s; the gates run here, and the "
		    "remote cache is not asked again for %lld s", r->shown, what,
		    (long long)(r->backoff / 1000));
	}
	curluv_cancel_all(r->cu);
}

static void up_again(struct remote *r)
{
	if (r->down_until != 0) {
		r->down_until = 0;
		r->backoff = BACKOFF_FIRST;
		state_save(r);
	}
}

static size_t on_write(char *p, size_t size, size_t nmemb, void *arg)
{
	struct xfer *x = arg;
	size_t n = size * nmemb;

	if (x->data.len + n > BODY_MAX) {
		x->too_big = true;
		return 0;
	}
	buf_add(&x->data, p, n);
	return n;
}

static size_t on_read(char *p, size_t size, size_t nmemb, void *arg)
{
	struct xfer *x = arg;
	size_t n = size * nmemb, left = x->data.len - x->sent;

	if (n > left)
		n = left;
	memcpy(p, x->data.buf + x->sent, n);
	x->sent += n;
	return n;
}

static CURL *easy_for(struct remote *r, struct xfer *x, const char *name)
{
	CURL *e = curl_easy_init();
	char *url;

	if (e == NULL)
		return NULL;
	url = xasprintf("%s/%s", r->base, name);
	curl_easy_setopt(e, CURLOPT_URL, url);
	free(url);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, r->headers);
	curl_easy_setopt(e, CURLOPT_USERAGENT, "watchd/" WATCHD_VERSION);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, r->timeout_ms);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, r->timeout_ms);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	x->easy = e;
	return e;
}

/* A transfer's outcome as a failure of the server (a sentence), or NULL. */
static const char *failure(CURLcode rc, long status, char *buf, size_t size)
{
	if (rc != CURLE_OK) {
		snprintf(buf, size, "%s", curl_easy_strerror(rc));
		return buf;
	}
	if (status >= 500 || status == 401 || status == 403 || status == 407) {
		snprintf(buf, size, "the server answered HTTP %ld", status);
		return buf;
	}
	return NULL;
}

static void on_get_timer(uv_timer_t *t);

static void get_close(uv_handle_t *h)
{
	struct remote_get *g = h->data;

	for (size_t i = 0; i < g->n; i++)
		buf_release(&g->replies[i].body);
	free(g->replies);
	free(g);
}

/* The batch is over (all in, aborted, or past its deadline): what is still
 * in flight ends now, and the callback comes from the timer. */
static void get_finish(struct remote_get *g)
{
	if (g->finished)
		return;
	g->finished = true;
	while (g->xfers)
		curluv_cancel(g->r->cu, g->xfers->easy);
	uv_timer_start(&g->timer, on_get_timer, 0, 0);
}

/* Calls the batch back and lets it go (freed once its timer is closed). */
static void deliver(struct remote_get *g)
{
	struct remote *r = g->r;

	if (g->prev)
		g->prev->next = g->next;
	else
		r->gets = g->next;
	if (g->next)
		g->next->prev = g->prev;
	uv_timer_stop(&g->timer);
	r->asked_to = uv_now(r->loop);
	g->cb(g->arg, g->replies, g->n);
	uv_close((uv_handle_t *)&g->timer, get_close);
}

static void on_get_timer(uv_timer_t *t)
{
	struct remote_get *g = t->data;
	struct remote *r = g->r;

	if (!g->finished) {
		char what[64];

		snprintf(what, sizeof(what), "no answer within %ld ms", r->timeout_ms);
		trip(r, g->run_id, what);	/* finishes g too */
		get_finish(g);
		return;
	}
	deliver(g);
}

static void unlink_xfer(struct remote_get *g, struct xfer *x)
{
	for (struct xfer **pp = &g->xfers; *pp; pp = &(*pp)->next)
		if (*pp == x) {
			*pp = x->next;
			return;
		}
}

static void on_get_done(CURL *easy, CURLcode rc, long status, void *arg)
{
	struct xfer *x = arg;
	struct remote_get *g = x->g;
	struct remote *r = x->r;
	struct remote_reply *rep = &g->replies[x->idx];
	char why[160];
	const char *fail = rc == CURLE_ABORTED_BY_CALLBACK || x->too_big ? NULL :
	    failure(rc, status, why, sizeof(why));

	unlink_xfer(g, x);
	curl_easy_cleanup(easy);
	if (rc == CURLE_OK && status == 200) {
		rep->found = 1;
		rep->body = x->data;
		x->data = (struct buf)BUF_INIT;
		r->st.hits++;
		up_again(r);
	} else if (rc == CURLE_OK && status == 404) {
		rep->found = 0;
		r->st.misses++;
		up_again(r);
	}
	buf_release(&x->data);
	free(x);
	g->left--;
	if (fail)
		trip(r, g->run_id, fail);	/* may finish g, through the cancel */
	else if (rc == CURLE_OK && status != 200 && status != 404)
		remote_warn(r, g->run_id, "remote cache %s: the server answered HTTP %ld; "
		    "those results are judged here", r->shown, status);
	if (g->left == 0)
		get_finish(g);
}

long remote_timeout_ms(const struct remote *r)
{
	return r->timeout_ms;
}

struct remote_get *remote_get(struct remote *r, const char *run_id, const char *const *names,
    size_t n, remote_got_fn *cb, void *arg)
{
	return remote_get_within(r, run_id, names, n, r->timeout_ms, cb, arg);
}

struct remote_get *remote_get_within(struct remote *r, const char *run_id,
    const char *const *names, size_t n, long budget_ms, remote_got_fn *cb, void *arg)
{
	struct remote_get *g = xcalloc(1, sizeof(*g));

	g->r = r;
	snprintf(g->run_id, sizeof(g->run_id), "%s", run_id ? run_id : "");
	g->replies = xcalloc(n ? n : 1, sizeof(*g->replies));
	g->n = n;
	g->cb = cb;
	g->arg = arg;
	uv_timer_init(r->loop, &g->timer);
	g->timer.data = g;
	if (r->asked_to == 0)
		r->asked_from = uv_now(r->loop);
	g->next = r->gets;
	if (r->gets)
		r->gets->prev = g;
	r->gets = g;
	for (size_t i = 0; i < n; i++) {
		g->replies[i].found = -1;
		g->replies[i].body = (struct buf)BUF_INIT;
	}
	if (remote_down(r)) {
		remote_warn(r, run_id, "remote cache %s is not asked until the back-off after "
		    "its last failure ends (%s); the gates run here", r->shown,
		    r->last_error ? r->last_error : "see the earlier warning");
		get_finish(g);
		return g;
	}
	for (size_t i = 0; i < n; i++) {
		struct xfer *x = xcalloc(1, sizeof(*x));
		CURL *e;

		x->r = r;
		x->g = g;
		x->idx = i;
		x->data = (struct buf)BUF_INIT;
		if ((e = easy_for(r, x, names[i])) == NULL) {
			free(x);
			continue;
		}
		curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_write);
		curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
		if (curluv_add(r->cu, e, on_get_done, x) != 0) {
			curl_easy_cleanup(e);
			free(x);
			continue;
		}
		r->st.gets++;
		x->next = g->xfers;
		g->xfers = x;
		g->left++;
	}
	if (budget_ms > r->timeout_ms)
		budget_ms = r->timeout_ms;
	if (g->left == 0)
		get_finish(g);
	else
		uv_timer_start(&g->timer, on_get_timer, (uint64_t)(budget_ms > 0 ? budget_ms : 1), 0);
	return g;
}

void remote_get_abort(struct remote_get *g)
{
	get_finish(g);
}

static void on_put_done(CURL *easy, CURLcode rc, long status, void *arg)
{
	struct xfer *x = arg;
	struct remote *r = x->r;
	char why[160];
	const char *fail = rc == CURLE_ABORTED_BY_CALLBACK ? NULL :
	    failure(rc, status, why, sizeof(why));

	curl_easy_cleanup(easy);
	r->puts--;
	if (fail)
		trip(r, x->run_id, fail);
	else if (rc == CURLE_OK && (status < 200 || status > 299))
		remote_warn(r, x->run_id, "remote cache %s: an upload was refused with HTTP "
		    "%ld (does the server allow PUT?)", r->shown, status);
	else if (rc == CURLE_OK)
		up_again(r);
	buf_release(&x->data);
	free(x);
}

void remote_put(struct remote *r, const char *run_id, const char *name, struct buf *data)
{
	struct xfer *x;
	CURL *e;

	if (!r->write || remote_down(r)) {
		buf_release(data);
		return;
	}
	x = xcalloc(1, sizeof(*x));
	x->r = r;
	x->data = *data;
	*data = (struct buf)BUF_INIT;
	snprintf(x->run_id, sizeof(x->run_id), "%s", run_id ? run_id : "");
	if ((e = easy_for(r, x, name)) == NULL) {
		buf_release(&x->data);
		free(x);
		return;
	}
	curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(e, CURLOPT_READFUNCTION, on_read);
	curl_easy_setopt(e, CURLOPT_READDATA, x);
	curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE, (curl_off_t)x->data.len);
	if (curluv_add(r->cu, e, on_put_done, x) != 0) {
		curl_easy_cleanup(e);
		buf_release(&x->data);
		free(x);
		return;
	}
	r->st.puts++;
	r->puts++;
}

static void on_flush_timer(uv_timer_t *t)
{
	*(bool *)t->data = true;
}

void remote_flush(struct remote *r, uv_loop_t *loop, bool hook)
{
	uv_timer_t timer;
	bool expired = false;

	long budget;

	if (r == NULL || r->puts == 0)
		return;
	/* a hook already waited on reads: together, at most the timeout; CI
	 * waits for its uploads (each is bounded by the timeout) */
	budget = hook ? r->timeout_ms - (long)(r->asked_to - r->asked_from) : 600000;
	uv_timer_init(loop, &timer);
	timer.data = &expired;
	uv_timer_start(&timer, on_flush_timer, (uint64_t)(budget > 0 ? budget : 0), 0);
	while (r->puts > 0 && !expired && uv_run(loop, UV_RUN_ONCE))
		;
	if (r->puts > 0)
		remote_warn(r, NULL, "remote cache %s: %zu upload(s) did not finish in time "
		    "and were dropped", r->shown, r->puts);
	curluv_cancel_all(r->cu);
	uv_close((uv_handle_t *)&timer, NULL);
	uv_run(loop, UV_RUN_NOWAIT);
}

void remote_free(struct remote *r)
{
	if (r == NULL)
		return;
	curluv_cancel_all(r->cu);
	/* a batch still owed its callback gets it now, not after r is gone */
	while (r->gets) {
		r->gets->finished = true;
		deliver(r->gets);
	}
	curluv_free(r->cu);
	curl_slist_free_all(r->headers);
	free(r->base);
	free(r->shown);
	free(r->state_path);
	free(r->last_error);
	free(r);
}
