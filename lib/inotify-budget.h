/* inotify's per-user limits (fs.inotify.max_user_watches and
 * max_user_instances), what a user's processes hold of them (read from
 * /proc/PID/fd and fdinfo), and whether a number of new watches or
 * instances fits what is left. Linux only; knows nothing of watchd. */
#ifndef WD_INOTIFY_BUDGET_H
#define WD_INOTIFY_BUDGET_H

#include <stdbool.h>
#include <sys/types.h>

struct inotify_limits {
	long	max_watches;	/* fs.inotify.max_user_watches, -1: unreadable */
	long	max_instances;	/* fs.inotify.max_user_instances, -1: unreadable */
};

/* What a set of processes holds. An instance shared by two fds (dup, or a
 * fork without CLOEXEC) counts twice: an upper estimate. */
struct inotify_usage {
	long	instances;	/* fds that are inotify instances */
	long	watches;	/* "inotify wd:" lines in their fdinfo */
	long	procs;		/* processes read */
	long	unreadable;	/* processes of the user whose fds could not be read */
};

/* Reads both limits from proc_root ("/proc" in production; NULL means
 * that) sys/fs/inotify/. A limit that cannot be read is -1. 0, or -errno
 * when neither could be read. */
int inotify_limits_read(const char *proc_root, struct inotify_limits *l);
/* Adds what process pid holds to *u (u->procs counts it). 0, or -errno
 * when its fd directory cannot be read (then u->unreadable counts it,
 * unless it is gone: -ENOENT, counted nowhere). */
int inotify_usage_pid(const char *proc_root, pid_t pid, struct inotify_usage *u);
/* Adds what every process whose /proc entry belongs to uid holds (the
 * kernel charges an instance and its watches to the effective uid that
 * created it). Processes that cannot be read are skipped and counted in
 * u->unreadable. 0, or -errno when proc_root cannot be listed. */
int inotify_usage_uid(const char *proc_root, uid_t uid, struct inotify_usage *u);

enum inotify_fit {
	INOTIFY_FITS,		/* fits, with room to spare */
	INOTIFY_TIGHT,		/* fits, but leaves less than a tenth of the limit */
	INOTIFY_SHORT,		/* does not fit */
	INOTIFY_UNKNOWN,	/* the limit could not be read */
};

/* The arithmetic for one limit: need more of something of which used is
 * taken out of limit. */
struct inotify_budget {
	long		 limit;
	long		 used;
	long		 need;
	long		 left;		/* limit - used, at least 0 */
	long		 after;		/* left - need (negative when short) */
	enum inotify_fit fit;
	long		 suggest;	/* a limit that would fit with room (twice
					 * used + need, rounded up to a power of
					 * two, at least floor); 0 when it fits */
};

/* Fills b. limit < 0 gives INOTIFY_UNKNOWN. TIGHT when after is below a
 * tenth of limit; floor is the least limit suggested (524288 watches and
 * 512 instances are common advice). */
void inotify_budget(long limit, long used, long need, long floor, struct inotify_budget *b);
const char *inotify_fit_name(enum inotify_fit f);

#endif
