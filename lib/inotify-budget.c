/* inotify limits and usage from /proc. The limits belong to the user, not
 * the process (inotify(7)): editors, IDEs and language servers share them,
 * so what is left is the limit minus what all of the user's processes
 * hold. An fd is an inotify instance when its link reads
 * "anon_inode:inotify"; each watch is one "inotify wd:" line of its fdinfo
 * (proc(5)). Another user's processes, and ours that are not dumpable,
 * cannot be read: they are counted, never guessed. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "inotify-budget.h"

#define PROC_DEFAULT	"/proc"

static const char *proc_of(const char *proc_root)
{
	return proc_root ? proc_root : PROC_DEFAULT;
}

static long read_long(const char *path)
{
	char text[64];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	n = read(fd, text, sizeof(text) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	text[n] = '\0';
	{
		char *end;
		long v = strtol(text, &end, 10);

		return end == text || v < 0 ? -1 : v;
	}
}

int inotify_limits_read(const char *proc_root, struct inotify_limits *l)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/sys/fs/inotify/max_user_watches", proc_of(proc_root));
	l->max_watches = read_long(path);
	snprintf(path, sizeof(path), "%s/sys/fs/inotify/max_user_instances", proc_of(proc_root));
	l->max_instances = read_long(path);
	return l->max_watches < 0 && l->max_instances < 0 ? -ENOENT : 0;
}

/* Watches of one inotify fd: its fdinfo's "inotify wd:" lines. */
static long fdinfo_watches(int infodir, const char *fdname)
{
	struct buf b = BUF_INIT;
	long n = 0;
	int fd = openat(infodir, fdname, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return 0;
	for (;;) {
		ssize_t r;

		buf_grow(&b, 4096);
		r = read(fd, b.buf + b.len, 4096);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		buf_setlen(&b, b.len + (size_t)r);
	}
	close(fd);
	for (const char *p = b.buf; p && *p; ) {
		if (strncmp(p, "inotify wd:", 11) == 0)
			n++;
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	buf_release(&b);
	return n;
}

int inotify_usage_pid(const char *proc_root, pid_t pid, struct inotify_usage *u)
{
	char path[512];
	struct dirent *de;
	DIR *fds;
	int infodir, e;

	snprintf(path, sizeof(path), "%s/%ld/fd", proc_of(proc_root), (long)pid);
	if ((fds = opendir(path)) == NULL) {
		e = errno;
		if (e != ENOENT)
			u->unreadable++;
		return -e;
	}
	snprintf(path, sizeof(path), "%s/%ld/fdinfo", proc_of(proc_root), (long)pid);
	infodir = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	u->procs++;
	while ((de = readdir(fds)) != NULL) {
		char link[64];
		ssize_t n;

		if (de->d_name[0] == '.')
			continue;
		n = readlinkat(dirfd(fds), de->d_name, link, sizeof(link) - 1);
		if (n <= 0)
			continue;	/* closed meanwhile */
		link[n] = '\0';
		if (strcmp(link, "anon_inode:inotify") != 0)
			continue;
		u->instances++;
		if (infodir >= 0)
			u->watches += fdinfo_watches(infodir, de->d_name);
	}
	if (infodir >= 0)
		close(infodir);
	closedir(fds);
	return 0;
}

int inotify_usage_uid(const char *proc_root, uid_t uid, struct inotify_usage *u)
{
	struct dirent *de;
	DIR *proc = opendir(proc_of(proc_root));

	if (proc == NULL)
		return -errno;
	while ((de = readdir(proc)) != NULL) {
		struct stat st;
		char *end;
		long pid = strtol(de->d_name, &end, 10);

		if (*end != '\0' || pid <= 0)
			continue;
		if (fstatat(dirfd(proc), de->d_name, &st, 0) < 0 || st.st_uid != uid)
			continue;
		inotify_usage_pid(proc_root, (pid_t)pid, u);
	}
	closedir(proc);
	return 0;
}

static long round_up_pow2(long v)
{
	long p = 1;

	while (p < v && p < (1L << 40))
		p <<= 1;
	return p;
}

void inotify_budget(long limit, long used, long need, long floor, struct inotify_budget *b)
{
	memset(b, 0, sizeof(*b));
	b->limit = limit;
	b->used = used < 0 ? 0 : used;
	b->need = need < 0 ? 0 : need;
	if (limit < 0) {
		b->left = -1;
		b->after = -1;
		b->fit = INOTIFY_UNKNOWN;
		return;
	}
	b->left = limit > b->used ? limit - b->used : 0;
	b->after = b->left - b->need;
	if (b->after < 0)
		b->fit = INOTIFY_SHORT;
	else if (b->after < limit / 10)
		b->fit = INOTIFY_TIGHT;
	else
		b->fit = INOTIFY_FITS;
	if (b->fit != INOTIFY_FITS) {
		long s = round_up_pow2(2 * (b->used + b->need));

		b->suggest = s < floor ? floor : s;
		if (b->suggest <= limit)
			b->suggest = round_up_pow2(limit + 1);
	}
}

const char *inotify_fit_name(enum inotify_fit f)
{
	switch (f) {
	case INOTIFY_FITS: return "fits";
	case INOTIFY_TIGHT: return "tight";
	case INOTIFY_SHORT: return "short";
	case INOTIFY_UNKNOWN: break;
	}
	return "unknown";
}
