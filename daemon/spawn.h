/* Runs one tool process under libuv: argv only (never a shell), cwd ROOT,
 * its own process group (so a timeout kills the whole tree), stdout and
 * stderr captured up to a cap while the rest is read and dropped (a tool
 * that writes 100 MB never blocks and never grows our memory). */
#ifndef WD_SPAWN_H
#define WD_SPAWN_H

#include <stdbool.h>
#include <stdint.h>

#include <uv.h>

#include "buf.h"

struct spawn_opts {
	const char	*cwd;
	char *const	*argv;		/* argv[0] should be an absolute path */
	char *const	*env;		/* NULL: inherit */
	int		 timeout_s;	/* 0: none */
	size_t		 cap;		/* bytes kept per stream; 0: 1 MiB */
};

struct spawn_result {
	int		 spawn_error;	/* non-zero (UV_E*): the process never ran */
	int		 exit_code;	/* valid when spawn_error == 0 and !term_signal */
	int		 term_signal;
	bool		 timed_out;
	bool		 killed;	/* stopped by spawn_kill() */
	struct buf	 out, err;	/* the callback may steal them (buf_detach) */
	bool		 out_truncated, err_truncated;
	int64_t		 duration_ms;
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
/* Kills the process group (SIGTERM, then SIGKILL after a grace period);
 * the result says killed. Safe after exit (no signal is sent then). */
void spawn_kill(struct spawn *sp);

/* Looks a program up in PATH (or takes it as is when it contains '/').
 * A relative name ("./tool", "bin/lint") and relative PATH entries are
 * resolved against cwd, the directory the tool will run in (ROOT), not the
 * caller's; cwd NULL means the caller's. Returns a malloc'ed absolute path,
 * or NULL when not found/executable. */
char *spawn_which(const char *prog, const char *path_env, const char *cwd);

#endif
