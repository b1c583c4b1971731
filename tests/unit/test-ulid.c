/* ULIDs: format, time round trip, monotonic within one millisecond. */
#include "lib/ulid.h"
#include "test.h"

TEST_IMPL(ulid_format)
{
	char a[ULID_LEN + 1], b[ULID_LEN + 1];

	ulid_at(a, 1469918176385ULL);
	ASSERT_EQ(strlen(a), 26);
	ASSERT(ulid_valid(a));
	ASSERT(strncmp(a, "01ARYZ6S41", 10) == 0);	/* the spec's example time */
	ASSERT_EQ(ulid_time(a), 1469918176385ULL);
	ulid_at(b, 1469918176385ULL);
	ASSERT(strcmp(a, b) < 0);			/* same ms: still increasing */
	ulid_new(a);
	ASSERT(strcmp(b, a) < 0);
	ASSERT(!ulid_valid("01ARYZ6S41"));
	ASSERT(!ulid_valid("01ARYZ6S41UUUUUUUUUUUUUUUU"));	/* U is not Crockford */
	ASSERT(!ulid_valid("81ARYZ6S41000000000000000A"));	/* overflows 128 bits */
	return 0;
}
