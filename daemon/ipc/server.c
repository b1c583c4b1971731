/* Socket server on a uv_pipe. The socket directory is 0700 and the umask
 * is tightened around bind (libuv has no mode argument), and each peer's
 * uid is checked with SO_PEERCRED. A socket whose name disappears (a tmp
 * cleaner removed the runtime directory) is bound again on request, and
 * the name is unlinked at stop only while it is still ours. A client
 * handle is freed only after its close callback and after the handler's
 * reply, whichever comes last.
 *
 * Backpressure: a client that sends requests and never reads its replies
 * must neither stall the loop nor grow the daemon. So a connection is read
 * only while its unsent replies stay under UNSENT_CAP and its owed (late)
 * replies under MAX_OWED; at most REQS_PER_TURN of its requests are
 * handled per loop turn, the rest wait on an idle handle for the next turn
 * (other clients and inotify are served in between); a connection that
 * stays over the cap for the stall deadline is closed; and before each
 * request a peer that hung up is noticed (poll: reading may be stopped),
 * so no reply is computed for a closed connection. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/log.h"
#include "lib/utf8.h"
#include "lib/xmalloc.h"
#include "server.h"

#define MAX_REQUEST	(1 << 20)	/* a longer line closes the client */
#define UNSENT_CAP	(1 << 20)	/* stop reading above this many bytes queued */
#define REQS_PER_TURN	32		/* requests of one client per loop turn */
#define MAX_OWED	16		/* late replies (status --sync) per client */
#define STALL_MS	10000		/* over the cap this long: closed */
#define SWEEP_MS	250		/* how often stalled clients are looked at */

enum srv_state { SRV_LISTENING, SRV_CLOSING, SRV_CLOSED };

struct server {
	uv_loop_t	*loop;
	uv_pipe_t	 listener;
	uv_idle_t	 turn;		/* runs while a client has requests waiting */
	uv_timer_t	 sweep;		/* runs while a client is over the cap */
	int		 closing;	/* handles whose close callbacks are due */
	server_handler_fn *fn;
	void		*arg;
	char		*path;
	int		 dirfd;		/* the socket's directory when bound */
	dev_t		 dev;		/* the socket file we bound, to tell */
	ino_t		 ino;		/* it from a successor's (0: none) */
	enum srv_state	 state;		/* of listener */
	bool		 rebind;	/* bind again once the listener closed */
	bool		 stopping;	/* free once the listener closed */
	uint64_t	 stall_ms;
	struct client	*clients;
};

static void on_listener_closed(uv_handle_t *h);

struct client {
	uv_pipe_t	 pipe;
	struct server	*srv;
	struct buf	 in;
	size_t		 off;		/* in.buf[0..off) is handled */
	size_t		 unsent;	/* bytes of replies not yet written */
	int		 owed;		/* handler replies not yet given */
	int		 refs;		/* 1 for the handle, 1 per pending reply or write */
	int		 gone;		/* peer closed, or we closed */
	int		 reading;
	int		 queued;	/* has requests for the next turn */
	int		 due;		/* queued at the start of this turn */
	int		 over;		/* unsent passed the cap ... */
	uint64_t	 over_since;	/* ... at this uv_now */
	struct client	*next;
};

static void client_unref(struct client *c)
{
	if (--c->refs > 0)
		return;
	buf_release(&c->in);
	free(c);
}

static void unlink_client(struct client *c)
{
	if (c->srv == NULL)
		return;
	for (struct client **pp = &c->srv->clients; *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	}
	c->srv = NULL;
}

static void on_client_closed(uv_handle_t *h)
{
	client_unref(h->data);
}

static void client_close(struct client *c)
{
	if (c->gone)
		return;
	c->gone = 1;
	c->queued = 0;
	unlink_client(c);
	/* what was read and not handled goes now, not when the last reply
	 * owed to the handler comes back */
	buf_release(&c->in);
	c->off = 0;
	uv_close((uv_handle_t *)&c->pipe, on_client_closed);
}

int server_client_gone(const struct client *c)
{
	return c->gone;
}

static void client_pump(struct client *c);
static void on_turn(uv_idle_t *h);

/* Whether c may take another request: its replies are being read. */
static int may_take(const struct client *c)
{
	return c->unsent <= UNSENT_CAP && c->owed < MAX_OWED;
}

/* Puts c on the next loop turn. */
static void client_queue(struct client *c)
{
	if (c->gone || c->queued)
		return;
	c->queued = 1;
	uv_idle_start(&c->srv->turn, on_turn);
}

static void on_turn(uv_idle_t *h)
{
	struct server *srv = h->data;
	struct client *c;
	int any = 0;

	for (c = srv->clients; c; c = c->next) {
		c->due = c->queued;
		c->queued = 0;
		any |= c->due;
	}
	if (!any) {
		uv_idle_stop(h);
		return;
	}
	/* A handler may close clients, this one or all of them (stop):
	 * closing unlinks them, so the walk starts over, and due gives each
	 * client one go per turn. A closed client stays allocated until its
	 * close callback, which runs later in the turn. */
	for (c = srv->clients; c;) {
		if (!c->due) {
			c = c->next;
			continue;
		}
		c->due = 0;
		client_pump(c);
		c = c->gone ? srv->clients : c->next;
	}
}

static void on_sweep(uv_timer_t *t)
{
	struct server *srv = t->data;
	uint64_t now = uv_now(srv->loop);
	int any = 0;

	for (struct client *c = srv->clients, *next; c; c = next) {
		next = c->next;
		if (!c->over)
			continue;
		if (c->unsent <= UNSENT_CAP)
			c->over = 0;
		else if (now - c->over_since >= srv->stall_ms) {
			log_warnx("closed a client that left %zu bytes of replies unread for %llu ms",
			    c->unsent, (unsigned long long)(now - c->over_since));
			client_close(c);
		} else
			any = 1;
	}
	if (!any)
		uv_timer_stop(t);
}

struct wreq {
	uv_write_t	 req;
	char		*data;
	size_t		 len;
	struct client	*c;
};

static void on_written(uv_write_t *w, int status)
{
	struct wreq *wr = (struct wreq *)w;
	struct client *c = wr->c;
	int blocked = !may_take(c);

	c->unsent -= wr->len;
	if (status < 0)
		client_close(c);	/* EPIPE: the peer left; ECANCELED: we closed */
	else if (!c->gone) {
		if (c->unsent <= UNSENT_CAP)
			c->over = 0;
		if (blocked && may_take(c))
			client_queue(c);
	}
	free(wr->data);
	free(wr);
	client_unref(c);
}

void server_reply(struct client *c, cJSON *resp)
{
	int blocked = !may_take(c);
	char *s = NULL;

	c->owed--;
	if (resp && !c->gone) {
		utf8_repair_json(resp);
		s = cJSON_PrintUnformatted(resp);
	}
	cJSON_Delete(resp);
	if (!c->gone && s) {
		struct wreq *wr = xcalloc(1, sizeof(*wr));
		uv_buf_t b;

		wr->data = xasprintf("%s\n", s);
		wr->len = strlen(wr->data);
		wr->c = c;
		c->refs++;
		c->unsent += wr->len;
		b = uv_buf_init(wr->data, (unsigned)wr->len);
		if (uv_write(&wr->req, (uv_stream_t *)&c->pipe, &b, 1, on_written) != 0) {
			c->unsent -= wr->len;
			free(wr->data);
			free(wr);
			c->refs--;
			client_close(c);
		} else if (c->unsent > UNSENT_CAP && !c->over) {
			/* on_sweep closes it if it stays there */
			c->over = 1;
			c->over_since = uv_now(c->srv->loop);
			if (!uv_is_active((uv_handle_t *)&c->srv->sweep))
				uv_timer_start(&c->srv->sweep, on_sweep, SWEEP_MS, SWEEP_MS);
		}
	}
	cJSON_free(s);
	if (blocked && may_take(c))
		client_queue(c);
	client_unref(c);	/* the reply the handler owed */
}

int server_detach(struct client *c)
{
	uv_os_fd_t fd;
	int rc = UV_EBADF;

	if (!c->gone && uv_fileno((uv_handle_t *)&c->pipe, &fd) == 0 &&
	    (rc = fcntl(fd, F_DUPFD_CLOEXEC, 3)) < 0)
		rc = -errno;
	client_close(c);
	client_unref(c);	/* the reply the handler owed */
	return rc;
}

void server_release(struct client *c)
{
	server_reply(c, NULL);
}

/* Whether the peer closed its end. Reading may be stopped, so EOF would
 * not be seen; POLLHUP is only set once both directions are shut, so a
 * peer that merely shut down its writing still gets its replies. */
static int peer_hung_up(struct client *c)
{
	struct pollfd pfd = { .fd = -1 };
	uv_os_fd_t fd;

	if (uv_fileno((uv_handle_t *)&c->pipe, &fd) != 0)
		return 1;
	pfd.fd = fd;
	return poll(&pfd, 1, 0) > 0 && (pfd.revents & (POLLHUP | POLLERR));
}

static void set_reading(struct client *c, int on);

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
	static char buf[65536];

	(void)h;
	(void)hint;
	b->base = buf;
	b->len = sizeof(buf);
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
	struct client *c = s->data;

	if (n < 0) {
		client_close(c);
		return;
	}
	buf_add(&c->in, b->base, (size_t)n);
	client_pump(c);
}

static void set_reading(struct client *c, int on)
{
	if (on && !c->reading) {
		if (uv_read_start((uv_stream_t *)&c->pipe, on_alloc, on_read) != 0) {
			client_close(c);
			return;
		}
		c->reading = 1;
	} else if (!on && c->reading) {
		uv_read_stop((uv_stream_t *)&c->pipe);
		c->reading = 0;
	}
}

static void handle_line(struct client *c, const char *line, size_t len)
{
	const char *end = NULL;
	cJSON *msg = cJSON_ParseWithLengthOpts(line, len, &end, 0);

	c->refs++;	/* owed reply */
	c->owed++;
	if (msg == NULL || !cJSON_IsObject(msg)) {
		cJSON *e = cJSON_CreateObject();

		cJSON_AddStringToObject(e, "error", "bad request: expected a JSON object");
		server_reply(c, e);
	} else
		c->srv->fn(c, msg, c->srv->arg);
	cJSON_Delete(msg);
}

/* Handles what c sent, within this turn's budget, and reads on only while
 * nothing is waiting and its replies are being taken. */
static void client_pump(struct client *c)
{
	int handled = 0, has_line;
	char *nl;

	if (c->gone)
		return;
	c->refs++;	/* a handler may close c */
	while (!c->gone && may_take(c) &&
	    (nl = memchr(c->in.buf + c->off, '\n', c->in.len - c->off)) != NULL) {
		size_t at = c->off, len = (size_t)(nl - (c->in.buf + at));

		if (handled == REQS_PER_TURN) {
			client_queue(c);
			break;
		}
		if (peer_hung_up(c)) {
			client_close(c);
			break;
		}
		c->off += len + 1;
		handle_line(c, c->in.buf + at, len);	/* the line is parsed before any close */
		handled++;
	}
	if (c->gone)
		goto out;
	if (c->off > 0) {
		memmove(c->in.buf, c->in.buf + c->off, c->in.len - c->off);
		buf_setlen(&c->in, c->in.len - c->off);
		c->off = 0;
	}
	has_line = memchr(c->in.buf, '\n', c->in.len) != NULL;
	if (!has_line && c->in.len > MAX_REQUEST) {
		client_close(c);
		goto out;
	}
	set_reading(c, !has_line && may_take(c));
out:
	client_unref(c);
}

static void on_connection(uv_stream_t *l, int status)
{
	struct server *srv = l->data;
	struct client *c;
	struct ucred cred;
	socklen_t len = sizeof(cred);
	uv_os_fd_t fd;

	if (status < 0)
		return;
	c = xcalloc(1, sizeof(*c));
	c->srv = srv;
	c->refs = 1;
	buf_init(&c->in);
	uv_pipe_init(srv->loop, &c->pipe, 0);
	c->pipe.data = c;
	c->next = srv->clients;
	srv->clients = c;
	if (uv_accept(l, (uv_stream_t *)&c->pipe) != 0) {
		client_close(c);
		return;
	}
	if (uv_fileno((uv_handle_t *)&c->pipe, &fd) == 0 &&
	    getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0 && cred.uid != getuid()) {
		log_warnx("refused a client of uid %u", (unsigned)cred.uid);
		client_close(c);
		return;
	}
	set_reading(c, 1);
}

/* Binds a fresh listener at s->path: under a temporary name first, then
 * renamed into place, so that the name is ours only once it listens and
 * libuv, which unlinks the name it bound when the handle closes, never
 * unlinks what s->path names then. Paths longer than sun_path go through
 * the directory's fd (libuv 1.44 truncates them silently, PITFALLS §4).
 * On failure the listener is closing (state SRV_CLOSING). */
static int bind_listener(struct server *s, struct wd_err *err)
{
	struct sockaddr_un sa;
	char *dir = xstrdup(s->path), *tmp, *bound;
	const char *base = strrchr(s->path, '/') + 1;
	struct stat st;
	mode_t old;
	int rc;

	*strrchr(dir, '/') = '\0';
	if (s->dirfd >= 0)
		close(s->dirfd);
	s->dirfd = open(dir[0] ? dir : "/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (s->dirfd < 0) {
		rc = -errno;
		wd_err_set(err, rc, "cannot listen on %s: %s", s->path, strerror(errno));
		free(dir);
		return rc;
	}
	tmp = xasprintf(".%s.%d.tmp", base, (int)getpid());
	if (strlen(dir) + 1 + strlen(tmp) < sizeof(sa.sun_path))
		bound = xasprintf("%s/%s", dir, tmp);
	else
		bound = xasprintf("/proc/self/fd/%d/%s", s->dirfd, tmp);
	free(dir);
	unlinkat(s->dirfd, tmp, 0);
	uv_pipe_init(s->loop, &s->listener, 0);
	s->listener.data = s;
	old = umask(077);
	rc = uv_pipe_bind(&s->listener, bound);
	umask(old);
	if (rc == 0)
		rc = uv_listen((uv_stream_t *)&s->listener, 64, on_connection);
	if (rc == 0 && renameat(s->dirfd, tmp, s->dirfd, base) < 0)
		rc = -errno;
	if (rc == 0 && fstatat(s->dirfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0)
		rc = -errno;
	free(bound);
	free(tmp);
	if (rc != 0) {
		wd_err_set(err, rc, "cannot listen on %s: %s", s->path, uv_strerror(rc));
		s->state = SRV_CLOSING;
		uv_close((uv_handle_t *)&s->listener, on_listener_closed);
		return rc;
	}
	s->dev = st.st_dev;
	s->ino = st.st_ino;
	s->state = SRV_LISTENING;
	return 0;
}

static void server_free(struct server *s)
{
	struct stat st;

	/* the name goes only while it is still our socket */
	if (s->ino && lstat(s->path, &st) == 0 && st.st_dev == s->dev && st.st_ino == s->ino)
		unlink(s->path);
	if (s->dirfd >= 0)
		close(s->dirfd);
	free(s->path);
	free(s);
}

/* Stopping: freed once the listener and the turn and sweep handles have
 * all closed. */
static void maybe_free(struct server *s)
{
	if (s->stopping && s->closing == 0 && s->state == SRV_CLOSED)
		server_free(s);
}

static void on_server_handle_closed(uv_handle_t *h)
{
	struct server *s = h->data;

	s->closing--;
	maybe_free(s);
}

static void on_listener_closed(uv_handle_t *h)
{
	struct server *s = h->data;
	struct wd_err err = { 0 };

	s->state = SRV_CLOSED;
	if (s->stopping) {
		maybe_free(s);
		return;
	}
	if (s->rebind) {
		s->rebind = false;
		if (bind_listener(s, &err) == 0)
			log_info("socket %s recreated", s->path);
		else
			log_warnx("%s (retrying)", err.msg);
	}
}

int server_start(uv_loop_t *loop, const char *sock_path, server_handler_fn *fn, void *arg,
    struct server **out, struct wd_err *err)
{
	struct server *s = xcalloc(1, sizeof(*s));
	const char *env;
	int rc;

	s->loop = loop;
	s->fn = fn;
	s->arg = arg;
	s->path = xstrdup(sock_path);
	s->dirfd = -1;
	s->state = SRV_CLOSED;
	if ((rc = bind_listener(s, err)) != 0) {
		/* freed once the listener has closed, if it was opened */
		s->stopping = true;
		if (s->state == SRV_CLOSED)
			server_free(s);
		return rc;
	}
	uv_idle_init(loop, &s->turn);
	s->turn.data = s;
	uv_timer_init(loop, &s->sweep);
	s->sweep.data = s;
	s->stall_ms = STALL_MS;
	if ((env = getenv("WATCHD_TEST_IPC_STALL_MS")) != NULL && atoi(env) > 0)
		s->stall_ms = (uint64_t)atoi(env);
	*out = s;
	return 0;
}

bool server_socket_ok(const struct server *s)
{
	struct stat st;

	return s->state == SRV_LISTENING && lstat(s->path, &st) == 0 && st.st_dev == s->dev &&
	    st.st_ino == s->ino;
}

void server_rebind(struct server *s)
{
	struct wd_err err = { 0 };

	if (s == NULL || s->stopping || server_socket_ok(s))
		return;
	switch (s->state) {
	case SRV_LISTENING:
		log_warnx("socket %s is gone (its directory removed?): recreating it", s->path);
		s->rebind = true;
		s->state = SRV_CLOSING;
		uv_close((uv_handle_t *)&s->listener, on_listener_closed);
		break;
	case SRV_CLOSING:
		s->rebind = true;
		break;
	case SRV_CLOSED:
		if (bind_listener(s, &err) == 0)
			log_info("socket %s recreated", s->path);
		break;
	}
}

void server_stop(struct server *s)
{
	if (s == NULL)
		return;
	while (s->clients)
		client_close(s->clients);
	s->stopping = true;
	s->closing = 2;
	uv_close((uv_handle_t *)&s->turn, on_server_handle_closed);
	uv_close((uv_handle_t *)&s->sweep, on_server_handle_closed);
	if (s->state == SRV_LISTENING) {
		s->state = SRV_CLOSING;
		uv_close((uv_handle_t *)&s->listener, on_listener_closed);
	}
}
