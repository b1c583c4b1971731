/* lib/inotify-budget: the arithmetic doctor holds a tree against (what
 * cannot be tested by lowering the real sysctl without root), and the
 * usage read from this process's own /proc entries with real inotify
 * instances and watches. */
#include <stdlib.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "lib/inotify-budget.h"
#include "test.h"

TEST_IMPL(inotify_budget_fits)
{
	struct inotify_budget b;

	inotify_budget(192536, 2000, 500, 524288, &b);
	ASSERT_EQ(b.fit, INOTIFY_FITS);
	ASSERT_EQ(b.left, 190536);
	ASSERT_EQ(b.after, 190036);
	ASSERT_EQ(b.suggest, 0);
	ASSERT_STR_EQ(inotify_fit_name(b.fit), "fits");
	return 0;
}

TEST_IMPL(inotify_budget_short)
{
	struct inotify_budget b;

	/* a lowered limit: 100 watches, 30 held by the user, a 90-directory tree */
	inotify_budget(100, 30, 90, 524288, &b);
	ASSERT_EQ(b.fit, INOTIFY_SHORT);
	ASSERT_EQ(b.left, 70);
	ASSERT_EQ(b.after, -20);
	ASSERT_EQ(b.suggest, 524288);	/* the floor */
	/* more in use than the limit (lowered after the fact): nothing left */
	inotify_budget(100, 150, 1, 0, &b);
	ASSERT_EQ(b.left, 0);
	ASSERT_EQ(b.fit, INOTIFY_SHORT);
	/* a big tree: twice used + need, rounded up to a power of two */
	inotify_budget(524288, 100000, 500000, 524288, &b);
	ASSERT_EQ(b.fit, INOTIFY_SHORT);
	ASSERT_EQ(b.suggest, 2097152);	/* 1.2M -> 2^21 */
	return 0;
}

TEST_IMPL(inotify_budget_tight)
{
	struct inotify_budget b;

	/* fits, but leaves less than a tenth of the limit */
	inotify_budget(1000, 500, 450, 0, &b);
	ASSERT_EQ(b.fit, INOTIFY_TIGHT);
	ASSERT_EQ(b.after, 50);
	ASSERT_EQ(b.suggest, 2048);	/* 2 * 950 -> 2048 */
	/* exactly a tenth left is not tight */
	inotify_budget(1000, 500, 400, 0, &b);
	ASSERT_EQ(b.fit, INOTIFY_FITS);
	/* instances: 128, 127 held, the daemon needs one: fits with none left */
	inotify_budget(128, 127, 1, 512, &b);
	ASSERT_EQ(b.fit, INOTIFY_TIGHT);
	ASSERT_EQ(b.after, 0);
	ASSERT_EQ(b.suggest, 512);
	return 0;
}

TEST_IMPL(inotify_budget_unknown)
{
	struct inotify_budget b;

	inotify_budget(-1, 10, 10, 0, &b);
	ASSERT_EQ(b.fit, INOTIFY_UNKNOWN);
	ASSERT_EQ(b.suggest, 0);
	ASSERT_STR_EQ(inotify_fit_name(b.fit), "unknown");
	return 0;
}

/* Our own process, read through /proc before and after opening an inotify
 * instance with three watches: exactly one instance and three watches
 * more. */
TEST_IMPL(inotify_usage_self)
{
	struct inotify_usage before = { 0 }, after = { 0 }, all = { 0 };
	struct inotify_limits lim;
	int fd;

	ASSERT_OK(inotify_usage_pid(NULL, getpid(), &before));
	ASSERT_EQ(before.procs, 1);
	fd = inotify_init1(IN_CLOEXEC);
	ASSERT(fd >= 0);
	/* three directories every system has; watching writes nothing */
	ASSERT(inotify_add_watch(fd, "/", IN_CREATE) >= 0);
	ASSERT(inotify_add_watch(fd, "/etc", IN_CREATE) >= 0);
	ASSERT(inotify_add_watch(fd, "/usr", IN_CREATE) >= 0);
	ASSERT_OK(inotify_usage_pid(NULL, getpid(), &after));
	ASSERT_EQ(after.instances - before.instances, 1);
	ASSERT_EQ(after.watches - before.watches, 3);
	/* the user's total includes ours */
	ASSERT_OK(inotify_usage_uid(NULL, geteuid(), &all));
	ASSERT(all.instances >= after.instances);
	ASSERT(all.watches >= after.watches);
	ASSERT(all.procs >= 1);
	/* a process that is gone counts nowhere */
	{
		struct inotify_usage none = { 0 };

		ASSERT(inotify_usage_pid(NULL, 0x7ffffff0, &none) < 0);
		ASSERT_EQ(none.procs + none.unreadable, 0);
	}
	ASSERT_OK(inotify_limits_read(NULL, &lim));
	ASSERT(lim.max_watches > 0);
	ASSERT(lim.max_instances > 0);
	close(fd);
	return 0;
}
