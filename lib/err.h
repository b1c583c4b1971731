/* Error codes and caller-supplied error context.
 * Functions return 0 or a negative code: libuv codes (UV_E*) pass through,
 * raw syscalls give -errno, and project codes come from WD_ERR_MAP below,
 * numbered from -5000 so they never collide with libuv's. */
#ifndef WD_ERR_H
#define WD_ERR_H

#define WD_ERR_MAP(XX)                                                  \
	XX(CONFIG, "configuration error")                               \
	XX(USAGE, "usage error")                                        \
	XX(NOTRUNNING, "no daemon running")                             \
	XX(RUNNING, "a daemon is already running")                      \
	XX(LEDGER, "ledger error")                                      \
	XX(LEDGER_FULL, "ledger disk is full")                          \
	XX(LEDGER_NEWER, "ledger was written by a newer watchd")        \
	XX(PROTO, "protocol error")                                     \
	XX(GIT, "git error")                                            \
	XX(PARSE, "cannot parse tool output")                           \
	XX(NOTFOUND, "not found")                                       \
	XX(AMBIGUOUS, "ambiguous")                                      \
	XX(TIMEOUT, "timed out")

enum {
	WD_ERR_BASE_ = -5000,
#define XX(name, msg) WD_E##name,
	WD_ERR_MAP(XX)
#undef XX
};

/* Context for an error, filled by the callee. The pointer may be NULL. */
struct wd_err {
	int	code;
	char	msg[512];
};

/* A code's message: project codes, and -errno values (libuv's UV_E* codes
 * are -errno on Unix, so they read right too); "unknown error" for codes
 * only libuv knows (UV_EOF, UV_EAI_*), which the caller names itself. */
const char *wd_strerror(int code);
/* Sets err (if not NULL) and returns code, so callers can write
 * `return wd_err_set(err, WD_EGIT, "cannot open %s", path);`. */
int wd_err_set(struct wd_err *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
