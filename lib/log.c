/* Log sink: one line per message, line-buffered, UTC ISO-8601 timestamps. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

int log_verbosity = LOG_LVL_WARN;	/* the CLI is quiet; the daemon raises it */
int log_stages;
static FILE *log_fp;

int log_init(const char *path, int verbosity)
{
	log_verbosity = verbosity;
	if (getenv("WATCHD_TRACE") && *getenv("WATCHD_TRACE") == '1')
		log_verbosity = LOG_LVL_TRACE;
	log_stages = getenv("WATCHD_BENCH_STAGES") && *getenv("WATCHD_BENCH_STAGES") == '1' &&
	    verbosity >= LOG_LVL_INFO;
	if (path == NULL)
		return 0;
	FILE *fp = fopen(path, "ae");

	if (fp == NULL)
		return -errno;
	setvbuf(fp, NULL, _IOLBF, 0);
	if (log_fp)
		fclose(log_fp);
	log_fp = fp;
	return 0;
}

uint64_t log_mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

void log_close(void)
{
	if (log_fp)
		fclose(log_fp);
	log_fp = NULL;
}

static void vemit(const char *lvl, const char *func, int errnum, const char *fmt, va_list ap)
{
	FILE *fp = log_fp ? log_fp : stderr;
	struct timeval tv;
	struct tm tm;
	char ts[32];

	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	flockfile(fp);
	fprintf(fp, "%s.%03dZ %d %s %s: ", ts, (int)(tv.tv_usec / 1000), (int)getpid(), lvl, func);
	vfprintf(fp, fmt, ap);
	if (errnum)
		fprintf(fp, ": %s", strerror(errnum));
	fputc('\n', fp);
	funlockfile(fp);
}

void log_emit(enum log_level lvl, const char *func, int with_errno, const char *fmt, ...)
{
	static const char *names[] = { "warn", "info", "debug", "trace" };
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	vemit(names[lvl], func, with_errno ? saved : 0, fmt, ap);
	va_end(ap);
	errno = saved;
}

void fatal_emit(const char *func, int with_errno, const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	vemit("fatal", func, with_errno ? saved : 0, fmt, ap);
	va_end(ap);
	if (log_fp) {
		va_start(ap, fmt);
		fputs("watchd: ", stderr);
		vfprintf(stderr, fmt, ap);
		fputc('\n', stderr);
		va_end(ap);
	}
	exit(4);
}
