/* envlist_has: whole items of a comma-separated list, never a part. */
#include <stdlib.h>

#include "lib/envlist.h"
#include "test.h"

TEST_IMPL(envlist_items)
{
	unsetenv("WD_TEST_LIST");
	ASSERT(!envlist_has("WD_TEST_LIST", "a"));
	setenv("WD_TEST_LIST", "", 1);
	ASSERT(!envlist_has("WD_TEST_LIST", "a"));
	setenv("WD_TEST_LIST", "ledger-thread,getdents", 1);
	ASSERT(envlist_has("WD_TEST_LIST", "ledger-thread"));
	ASSERT(envlist_has("WD_TEST_LIST", "getdents"));
	ASSERT(!envlist_has("WD_TEST_LIST", "ledger"));
	ASSERT(!envlist_has("WD_TEST_LIST", "thread"));
	ASSERT(!envlist_has("WD_TEST_LIST", "getdents64"));
	setenv("WD_TEST_LIST", ",a,,b,", 1);
	ASSERT(envlist_has("WD_TEST_LIST", "a"));
	ASSERT(envlist_has("WD_TEST_LIST", "b"));
	ASSERT(!envlist_has("WD_TEST_LIST", ""));
	unsetenv("WD_TEST_LIST");
	return 0;
}
