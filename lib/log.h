/* Logging in the OpenBSD/tmux manner. Lines carry a UTC timestamp, pid,
 * level and function. Output goes to the log file, or to stderr in the
 * foreground. The level is checked before formatting. stdout is never used:
 * it belongs to CLI output. */
#ifndef WD_LOG_H
#define WD_LOG_H

#include <stddef.h>
#include <stdint.h>

enum log_level { LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG, LOG_LVL_TRACE };

/* A verbosity below every level: nothing is written (one-shot commands,
 * whose user reads results, not a daemon's log). WATCHD_TRACE=1 still wins. */
#define LOG_OFF (-1)

extern int log_verbosity;

/* path NULL: stderr. Returns 0 or -errno (then logs go to stderr). */
int log_init(const char *path, int verbosity);
void log_close(void);
void log_emit(enum log_level lvl, const char *func, int with_errno, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
_Noreturn void fatal_emit(const char *func, int with_errno, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define log_at(lvl, e, ...) do { if (log_verbosity >= (lvl)) \
	log_emit((lvl), __func__, (e), __VA_ARGS__); } while (0)
#define log_warn(...)	log_at(LOG_LVL_WARN, 1, __VA_ARGS__)
#define log_warnx(...)	log_at(LOG_LVL_WARN, 0, __VA_ARGS__)
#define log_info(...)	log_at(LOG_LVL_INFO, 0, __VA_ARGS__)
#define log_debug(...)	log_at(LOG_LVL_DEBUG, 0, __VA_ARGS__)
#define log_trace(...)	log_at(LOG_LVL_TRACE, 0, __VA_ARGS__)
#define fatal(...)	fatal_emit(__func__, 1, __VA_ARGS__)
#define fatalx(...)	fatal_emit(__func__, 0, __VA_ARGS__)
#define BUG(...)	fatal_emit(__func__, 0, "BUG: " __VA_ARGS__)

/* WATCHD_BENCH_STAGES=1 (read by log_init): one line per stage a batch goes
 * through, "stage NAME N files US us", which the watcher benchmark adds up
 * into its stage breakdown. Off, a stage costs one flag test. */
extern int log_stages;
/* CLOCK_MONOTONIC in microseconds. */
uint64_t log_mono_us(void);
/* Takes a stage's start time: 0 when stages are off. */
#define log_stage_start() (log_stages ? log_mono_us() : 0)
/* Logs the stage that started at t0 (log_stage_start) over n files. */
#define log_stage(name, n, t0) do { if (log_stages) \
	log_emit(LOG_LVL_INFO, __func__, 0, "stage %s %zu files %llu us", (name), \
	    (size_t)(n), (unsigned long long)(log_mono_us() - (t0))); } while (0)

#endif
