/* Packed directory listings: order, updates, deletion with compaction. */
#include "lib/dirents.h"
#include "test.h"

TEST_IMPL(dirents_set_find_del)
{
	struct dirents e = DIRENTS_INIT;
	char name[32];

	ASSERT(dirents_set(&e, "b", 2));
	ASSERT(dirents_set(&e, "a", 1));
	ASSERT(!dirents_set(&e, "b", 3));		/* update, not insert */
	ASSERT_EQ(e.n, 2);
	ASSERT_STR_EQ(dirents_name(&e, 0), "a");
	ASSERT_EQ(e.v[dirents_find(&e, "b")].stamp, 3);
	ASSERT(dirents_find(&e, "c") < 0);
	for (int i = 0; i < 500; i++) {
		snprintf(name, sizeof(name), "file-%04d.txt", i);
		dirents_set(&e, name, (uint64_t)i + 10);
	}
	for (int i = 0; i < 500; i += 2) {
		snprintf(name, sizeof(name), "file-%04d.txt", i);
		ASSERT(dirents_del(&e, name));
	}
	ASSERT(!dirents_del(&e, "file-0000.txt"));
	ASSERT_EQ(e.n, 252);
	ASSERT(e.garbage * 2 <= e.len);			/* compacted on the way */
	for (int i = 1; i < 500; i += 2) {
		snprintf(name, sizeof(name), "file-%04d.txt", i);
		ASSERT_EQ(e.v[dirents_find(&e, name)].stamp, (uint64_t)i + 10);
	}
	dirents_release(&e);
	return 0;
}

TEST_IMPL(dirents_append_then_sort)
{
	struct dirents e = DIRENTS_INIT;
	static const char *const names[] = { "zeta", "alpha", "mu", "beta", NULL };

	for (int i = 0; names[i]; i++)
		dirents_append(&e, names[i], (uint64_t)i + 1);
	dirents_sort(&e);
	ASSERT_STR_EQ(dirents_name(&e, 0), "alpha");
	ASSERT_STR_EQ(dirents_name(&e, 3), "zeta");
	ASSERT_EQ(e.v[dirents_find(&e, "zeta")].stamp, 1);
	dirents_release(&e);
	return 0;
}
