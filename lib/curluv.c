/* curl multi on a libuv loop (see curluv.h). curl hands out sockets through
 * its socket callback and a single timeout through its timer callback; each
 * socket gets a uv_poll_t, the timeout one uv_timer_t, and both answer with
 * curl_multi_socket_action. curl's rule that the timer callback must not
 * drive the multi itself is kept by always going through the timer. */
#include <stdlib.h>

#include "curluv.h"
#include "xmalloc.h"

struct req {
	CURL		*easy;
	curluv_done_fn	*done;
	void		*arg;
	struct req	*prev, *next;
};

struct sock {
	uv_poll_t	 poll;
	struct curluv	*cu;
	curl_socket_t	 fd;
};

struct curluv {
	uv_loop_t	*loop;
	CURLM		*multi;
	uv_timer_t	 timer;
	struct req	*reqs;		/* added, not yet done */
	size_t		 active;
	bool		 freeing;
};

static void unlink_req(struct curluv *cu, struct req *r)
{
	if (r->prev)
		r->prev->next = r->next;
	else
		cu->reqs = r->next;
	if (r->next)
		r->next->prev = r->prev;
	/* curl may keep a timer for idle connections: with nothing in
	 * flight it must not keep the loop alive */
	if (--cu->active == 0)
		uv_unref((uv_handle_t *)&cu->timer);
}

/* Hands finished transfers back to their owners. */
static void reap(struct curluv *cu)
{
	CURLMsg *m;
	int left;

	while ((m = curl_multi_info_read(cu->multi, &left)) != NULL) {
		struct req *r = NULL;
		CURL *easy = m->easy_handle;
		CURLcode rc = m->data.result;
		long status = 0;

		if (m->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&r);
		curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
		curl_multi_remove_handle(cu->multi, easy);
		unlink_req(cu, r);
		curl_easy_setopt(easy, CURLOPT_PRIVATE, NULL);
		r->done(easy, rc, status, r->arg);
		free(r);
	}
}

static void on_poll(uv_poll_t *h, int status, int events)
{
	struct sock *s = h->data;
	int flags = 0, running;

	if (status < 0)
		flags = CURL_CSELECT_ERR;
	if (events & UV_READABLE)
		flags |= CURL_CSELECT_IN;
	if (events & UV_WRITABLE)
		flags |= CURL_CSELECT_OUT;
	curl_multi_socket_action(s->cu->multi, s->fd, flags, &running);
	reap(s->cu);
}

static void on_timer(uv_timer_t *t)
{
	struct curluv *cu = t->data;
	int running;

	curl_multi_socket_action(cu->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	reap(cu);
}

static void free_sock(uv_handle_t *h)
{
	free(h->data);
}

static int on_socket(CURL *easy, curl_socket_t fd, int what, void *userp, void *sockp)
{
	struct curluv *cu = userp;
	struct sock *s = sockp;
	int events = 0;

	(void)easy;
	if (what == CURL_POLL_REMOVE) {
		if (s) {
			uv_poll_stop(&s->poll);
			uv_close((uv_handle_t *)&s->poll, free_sock);
			curl_multi_assign(cu->multi, fd, NULL);
		}
		return 0;
	}
	if (s == NULL) {
		s = xcalloc(1, sizeof(*s));
		s->cu = cu;
		s->fd = fd;
		if (uv_poll_init_socket(cu->loop, &s->poll, fd) != 0) {
			free(s);
			return -1;	/* curl fails the transfer */
		}
		s->poll.data = s;
		curl_multi_assign(cu->multi, fd, s);
	}
	if (what & CURL_POLL_IN)
		events |= UV_READABLE;
	if (what & CURL_POLL_OUT)
		events |= UV_WRITABLE;
	uv_poll_start(&s->poll, events, on_poll);
	return 0;
}

static int on_timeout(CURLM *multi, long ms, void *userp)
{
	struct curluv *cu = userp;

	(void)multi;
	if (ms < 0)
		uv_timer_stop(&cu->timer);
	else
		uv_timer_start(&cu->timer, on_timer, (uint64_t)ms, 0);
	return 0;
}

struct curluv *curluv_new(uv_loop_t *loop, long max_conns, const char **why)
{
	struct curluv *cu;

	if (curl_api_load(why) != 0)
		return NULL;
	cu = xcalloc(1, sizeof(*cu));
	cu->loop = loop;
	if ((cu->multi = curl_multi_init()) == NULL) {
		free(cu);
		*why = "libcurl could not make a multi handle";
		return NULL;
	}
	uv_timer_init(loop, &cu->timer);
	uv_unref((uv_handle_t *)&cu->timer);
	cu->timer.data = cu;
	curl_multi_setopt(cu->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
	curl_multi_setopt(cu->multi, CURLMOPT_SOCKETDATA, cu);
	curl_multi_setopt(cu->multi, CURLMOPT_TIMERFUNCTION, on_timeout);
	curl_multi_setopt(cu->multi, CURLMOPT_TIMERDATA, cu);
	if (max_conns > 0) {
		curl_multi_setopt(cu->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, max_conns);
		curl_multi_setopt(cu->multi, CURLMOPT_MAX_HOST_CONNECTIONS, max_conns);
	}
	return cu;
}

int curluv_add(struct curluv *cu, CURL *easy, curluv_done_fn *done, void *arg)
{
	struct req *r;

	if (cu->freeing)
		return -1;
	r = xcalloc(1, sizeof(*r));
	r->easy = easy;
	r->done = done;
	r->arg = arg;
	curl_easy_setopt(easy, CURLOPT_PRIVATE, r);
	if (curl_multi_add_handle(cu->multi, easy) != CURLM_OK) {
		free(r);
		return -1;
	}
	r->next = cu->reqs;
	if (cu->reqs)
		cu->reqs->prev = r;
	cu->reqs = r;
	if (cu->active++ == 0)
		uv_ref((uv_handle_t *)&cu->timer);
	return 0;
}

void curluv_cancel(struct curluv *cu, CURL *easy)
{
	struct req *r = NULL;

	curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&r);
	if (r == NULL)
		return;
	/* the multi also drops a finished message still queued for it */
	curl_multi_remove_handle(cu->multi, easy);
	unlink_req(cu, r);
	curl_easy_setopt(easy, CURLOPT_PRIVATE, NULL);
	r->done(easy, CURLE_ABORTED_BY_CALLBACK, 0, r->arg);
	free(r);
}

void curluv_cancel_all(struct curluv *cu)
{
	struct req *r;

	/* one at a time from the head: a done callback may add or cancel */
	while ((r = cu->reqs) != NULL)
		curluv_cancel(cu, r->easy);
}

size_t curluv_active(const struct curluv *cu)
{
	return cu->active;
}

static void free_cu(uv_handle_t *h)
{
	free(h->data);
}

void curluv_free(struct curluv *cu)
{
	if (cu == NULL || cu->freeing)
		return;
	curluv_cancel_all(cu);
	cu->freeing = true;
	/* closes the connections: each socket's poll handle is closed by
	 * the CURL_POLL_REMOVE this sends */
	curl_multi_cleanup(cu->multi);
	uv_timer_stop(&cu->timer);
	uv_close((uv_handle_t *)&cu->timer, free_cu);
}
