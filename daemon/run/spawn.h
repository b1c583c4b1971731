/* Runs one tool process under libuv: argv only (never a shell), cwd ROOT,
 * in a session of its own (setsid), which makes the child the leader of a
 * new process group: a timeout or spawn_kill signals that whole group, so
 * the tool's own children go too (unless one left the group). stdout and
 * stderr are captured: the first `cap` bytes in memory, up to `keep` bytes
 * in an unlinked spill file (for parsers, which need the whole output), and
 * the rest read and dropped (a tool that writes 100 MB never blocks and
 * never grows our memory). */
#ifndef WD_SPAWN_H
#define WD_SPAWN_H

#include <stdbool.h>
#include <stdint.h>

#include <uv.h>

#include "lib/buf.h"

struct spawn_opts {
	const char	*cwd;
	char *const	*argv;		/* argv[0] should be an absolute path */
	char *const	*env;		/* NULL: inherit */
	int		 timeout_s;	/* 0: none */
	size_t		 cap;		/* bytes kept in memory per stream; 0: 1 MiB */
	size_t		 keep;		/* bytes kept per stream in all (> cap: the
					 * rest goes to a spill file); 0: cap */
	const char	*spill_dir;	/* where spill files go; NULL: keep = cap */
};

struct spawn_result {
	int		 spawn_error;	/* non-zero (UV_E*): the process never ran */
	int		 exit_code;	/* valid when spawn_error == 0 and !term_signal */
	int		 term_signal;
	bool		 timed_out;
	bool		 killed;	/* stopped by spawn_kill() */
	struct buf	 out, err;	/* the first `cap` bytes; the callback may
					 * steal them (buf_detach) */
	int		 out_fd, err_fd;	/* spill files with every byte kept
					 * (all of out/err and more), or -1 */
	size_t		 out_kept, err_kept;	/* bytes kept in all, <= keep */
	bool		 out_truncated, err_truncated;	/* more than keep came */
	int64_t		 duration_ms;
};

/* A stream's whole kept output: the memory buffer, or the spill file
 * mapped read-only. data is NUL-terminated (data[len] == 0). */
struct spawn_view {
	const char	*data;
	size_t		 len;
	void		*map;		/* mmap'ed region, or NULL */
	size_t		 map_len;
};

struct spawn;
/* Called once, after the process exited (or failed to start) and every
 * handle is closed. The spawn is freed when the callback returns. */
typedef void spawn_done_fn(struct spawn_result *res, void *arg);

/* Starts the process. Always reports through cb, even when the start
 * fails (then res->spawn_error is set), so callers have one path. The
 * returned handle stays valid until cb has run; *out may be NULL. */
void spawn_start(uv_loop_t *loop, const struct spawn_opts *o, spawn_done_fn *cb, void *arg,
    struct spawn **out);
/* Fills v with everything kept of stdout (err false) or stderr, from
 * inside the done callback (the spill files close when it returns).
 * 0, or -errno when the spill file cannot be mapped (v then holds the
 * memory part only). Release with spawn_view_release. */
int spawn_view(const struct spawn_result *res, bool err, struct spawn_view *v);
void spawn_view_release(struct spawn_view *v);
/* Kills the child's process group (SIGTERM, then SIGKILL after a grace
 * period); the result says killed. Safe after exit (no signal is sent then). */
void spawn_kill(struct spawn *sp);

/* Looks a program up in PATH (or takes it as is when it contains '/').
 * A relative name ("./tool", "bin/lint") and relative PATH entries are
 * resolved against cwd, the directory the tool will run in (ROOT), not the
 * caller's; cwd NULL means the caller's. Returns a malloc'ed absolute path,
 * or NULL when not found/executable. */
char *spawn_which(const char *prog, const char *path_env, const char *cwd);

#endif
