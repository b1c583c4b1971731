/* Socket server on a uv_pipe. The socket directory is 0700 and the umask
 * is tightened around bind (libuv has no mode argument), and each peer's
 * uid is checked with SO_PEERCRED. A socket whose name disappears (a tmp
 * cleaner removed the runtime directory) is bound again on request, and
 * the name is unlinked at stop only while it is still ours. A client handle is freed only after its
 * close callback and after the handler's reply, whichever comes last. */
#include <errno.h>
#include <fcntl.h>
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

#define MAX_REQUEST (1 << 20)

enum srv_state { SRV_LISTENING, SRV_CLOSING, SRV_CLOSED };

struct server {
	uv_loop_t	*loop;
	uv_pipe_t	 listener;
	server_handler_fn *fn;
	void		*arg;
	char		*path;
	int		 dirfd;		/* the socket's directory when bound */
	dev_t		 dev;		/* the socket file we bound, to tell */
	ino_t		 ino;		/* it from a successor's (0: none) */
	enum srv_state	 state;		/* of listener */
	bool		 rebind;	/* bind again once the listener closed */
	bool		 stopping;	/* free once the listener closed */
	struct client	*clients;
};

static void on_listener_closed(uv_handle_t *h);

struct client {
	uv_pipe_t	 pipe;
	struct server	*srv;
	struct buf	 in;
	int		 refs;		/* 1 for the handle, 1 per pending reply */
	int		 gone;		/* peer closed, or we closed */
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
	unlink_client(c);
	uv_close((uv_handle_t *)&c->pipe, on_client_closed);
}

int server_client_gone(const struct client *c)
{
	return c->gone;
}

struct wreq {
	uv_write_t	 req;
	char		*data;
	struct client	*c;
};

static void on_written(uv_write_t *w, int status)
{
	struct wreq *wr = (struct wreq *)w;

	(void)status;
	free(wr->data);
	client_unref(wr->c);
	free(wr);
}

void server_reply(struct client *c, cJSON *resp)
{
	char *s;

	utf8_repair_json(resp);
	s = cJSON_PrintUnformatted(resp);

	cJSON_Delete(resp);
	if (!c->gone && s) {
		struct wreq *wr = xcalloc(1, sizeof(*wr));
		uv_buf_t b;

		wr->data = xasprintf("%s\n", s);
		wr->c = c;
		c->refs++;
		b = uv_buf_init(wr->data, (unsigned)strlen(wr->data));
		if (uv_write(&wr->req, (uv_stream_t *)&c->pipe, &b, 1, on_written) != 0) {
			free(wr->data);
			free(wr);
			c->refs--;
		}
	}
	cJSON_free(s);
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
	char *nl;

	if (n < 0) {
		client_close(c);
		return;
	}
	buf_add(&c->in, b->base, (size_t)n);
	while ((nl = memchr(c->in.buf, '\n', c->in.len)) != NULL) {
		size_t len = (size_t)(nl - c->in.buf);
		const char *end = NULL;
		cJSON *msg = cJSON_ParseWithLengthOpts(c->in.buf, len, &end, 0);

		c->refs++;	/* owed reply */
		if (msg == NULL || !cJSON_IsObject(msg)) {
			cJSON *e = cJSON_CreateObject();

			cJSON_AddStringToObject(e, "error", "bad request: expected a JSON object");
			server_reply(c, e);
		} else
			c->srv->fn(c, msg, c->srv->arg);
		cJSON_Delete(msg);
		if (c->in.alloc == 0)
			break;
		memmove(c->in.buf, nl + 1, c->in.len - len - 1);
		buf_setlen(&c->in, c->in.len - len - 1);
	}
	if (c->in.len > MAX_REQUEST)
		client_close(c);
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
	uv_read_start((uv_stream_t *)&c->pipe, on_alloc, on_read);
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

static void on_listener_closed(uv_handle_t *h)
{
	struct server *s = h->data;
	struct wd_err err = { 0 };

	s->state = SRV_CLOSED;
	if (s->stopping) {
		server_free(s);
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
	if (s->state == SRV_LISTENING) {
		s->state = SRV_CLOSING;
		uv_close((uv_handle_t *)&s->listener, on_listener_closed);
	} else if (s->state == SRV_CLOSED)
		server_free(s);
}
