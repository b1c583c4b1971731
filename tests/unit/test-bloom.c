/* bloom: never "no" for a value added; few "maybe" for values never added
 * while it holds what it was sized for; full past that. */
#include <stdint.h>

#include "lib/bloom.h"
#include "test.h"

TEST_IMPL(bloom_no_false_no_and_few_false_maybe)
{
	struct bloom b = BLOOM_INIT;
	size_t fp = 0;

	ASSERT(bloom_maybe(&b, 42));		/* nothing built: it cannot say no */
	bloom_init(&b, 20000);
	ASSERT(!bloom_full(&b));
	/* consecutive values: a weak hash's low bits, as FNV's are */
	for (uint64_t i = 0; i < 20000; i++)
		bloom_add(&b, i * 16);
	for (uint64_t i = 0; i < 20000; i++)
		ASSERT(bloom_maybe(&b, i * 16));
	for (uint64_t i = 0; i < 100000; i++)
		fp += bloom_maybe(&b, i * 16 + 1);
	ASSERT(fp < 2000);			/* under 2% */
	ASSERT(!bloom_full(&b));
	for (uint64_t i = 0; i < 40000; i++)
		bloom_add(&b, (i + 1000000) * 16);
	ASSERT(bloom_full(&b));
	bloom_release(&b);
	ASSERT(bloom_maybe(&b, 42));
	return 0;
}
