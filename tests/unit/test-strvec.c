/* strvec: owned strings, NULL-terminated once non-empty; push in every
 * form, sort (with and without duplicates), linear and binary search,
 * clear, drop from the front. */
#include <stdio.h>

#include "lib/strvec.h"
#include "lib/xmalloc.h"
#include "test.h"

TEST_IMPL(strvec_push_forms)
{
	struct strvec sv = STRVEC_INIT, other = STRVEC_INIT;
	char word[] = "copy";

	ASSERT_EQ(sv.n, 0);
	strvec_push(&sv, word);
	word[0] = 'X';				/* push copies */
	strvec_pushn(&sv, "prefix-and-rest", 6);
	strvec_pushf(&sv, "%s=%d", "n", 42);
	strvec_push_owned(&sv, xstrdup("owned"));
	strvec_push(&sv, "");
	ASSERT_EQ(sv.n, 5);
	ASSERT_STR_EQ(sv.v[0], "copy");
	ASSERT_STR_EQ(sv.v[1], "prefix");
	ASSERT_STR_EQ(sv.v[2], "n=42");
	ASSERT_STR_EQ(sv.v[3], "owned");
	ASSERT_STR_EQ(sv.v[4], "");
	ASSERT_NULL(sv.v[5]);			/* an argv as it stands */
	strvec_pushv(&other, &sv);
	strvec_pushv(&other, &sv);
	ASSERT_EQ(other.n, 10);
	ASSERT_STR_EQ(other.v[7], "n=42");
	ASSERT(other.v[7] != sv.v[2]);		/* copies, not shared */
	ASSERT_NULL(other.v[10]);
	strvec_clear(&other);
	strvec_clear(&sv);
	return 0;
}

/* Growth through many reallocations keeps order and the NULL end. */
TEST_IMPL(strvec_grow)
{
	struct strvec sv = STRVEC_INIT;
	char want[32];

	for (int i = 0; i < 10000; i++) {
		strvec_pushf(&sv, "item%d", i);
		ASSERT_NULL(sv.v[sv.n]);
	}
	ASSERT_EQ(sv.n, 10000);
	for (int i = 0; i < 10000; i++) {
		snprintf(want, sizeof(want), "item%d", i);
		ASSERT_STR_EQ(sv.v[i], want);
	}
	strvec_clear(&sv);
	return 0;
}

/* sort orders by bytes (strcmp); sort_uniq also drops duplicates. */
TEST_IMPL(strvec_sort_and_uniq)
{
	static const char *const in[] = { "b", "a/b", "B", "a", "b", "a.b", "", "a", NULL };
	static const char *const sorted[] = { "", "B", "a", "a", "a.b", "a/b", "b", "b" };
	static const char *const uniq[] = { "", "B", "a", "a.b", "a/b", "b" };
	struct strvec sv = STRVEC_INIT, empty = STRVEC_INIT;

	for (size_t i = 0; in[i]; i++)
		strvec_push(&sv, in[i]);
	strvec_sort(&sv);
	ASSERT_EQ(sv.n, 8);
	for (size_t i = 0; i < sv.n; i++)
		ASSERT_STR_EQ(sv.v[i], sorted[i]);
	strvec_sort_uniq(&sv);
	ASSERT_EQ(sv.n, 6);
	for (size_t i = 0; i < sv.n; i++)
		ASSERT_STR_EQ(sv.v[i], uniq[i]);
	ASSERT_NULL(sv.v[sv.n]);
	strvec_sort_uniq(&sv);			/* already unique: unchanged */
	ASSERT_EQ(sv.n, 6);
	strvec_sort(&empty);			/* empty vectors are fine */
	strvec_sort_uniq(&empty);
	ASSERT_EQ(empty.n, 0);
	strvec_clear(&sv);
	return 0;
}

/* find: linear, any order, first match; bsearch: a sorted vector. Both
 * answer -1 for a missing string and for an empty vector. */
TEST_IMPL(strvec_find_and_bsearch)
{
	struct strvec sv = STRVEC_INIT;
	char s[32];

	ASSERT_EQ(strvec_find(&sv, "x"), -1);
	ASSERT_EQ(strvec_bsearch(&sv, "x"), -1);
	strvec_push(&sv, "zeta");
	strvec_push(&sv, "alpha");
	strvec_push(&sv, "zeta");
	ASSERT_EQ(strvec_find(&sv, "zeta"), 0);
	ASSERT_EQ(strvec_find(&sv, "alpha"), 1);
	ASSERT_EQ(strvec_find(&sv, "alp"), -1);
	strvec_clear(&sv);

	for (int i = 0; i < 1000; i++)
		strvec_pushf(&sv, "f%04d", i * 2);	/* f0000 f0002 ... sorted */
	for (int i = 0; i < 1000; i++) {
		snprintf(s, sizeof(s), "f%04d", i * 2);
		ASSERT_EQ(strvec_bsearch(&sv, s), i);
		snprintf(s, sizeof(s), "f%04d", i * 2 + 1);
		ASSERT_EQ(strvec_bsearch(&sv, s), -1);
	}
	ASSERT_EQ(strvec_bsearch(&sv, ""), -1);		/* before the first */
	ASSERT_EQ(strvec_bsearch(&sv, "g"), -1);	/* after the last */
	strvec_clear(&sv);
	return 0;
}

/* clear frees everything and leaves an empty vector, ready for reuse. */
TEST_IMPL(strvec_clear_and_reuse)
{
	struct strvec sv = STRVEC_INIT;

	strvec_clear(&sv);
	strvec_push(&sv, "a");
	strvec_clear(&sv);
	ASSERT_EQ(sv.n, 0);
	ASSERT_EQ(sv.alloc, 0);
	ASSERT_NULL(sv.v);
	strvec_push(&sv, "b");
	ASSERT_EQ(sv.n, 1);
	ASSERT_STR_EQ(sv.v[0], "b");
	ASSERT_NULL(sv.v[1]);
	strvec_clear(&sv);
	return 0;
}

/* drop_front frees the first n, keeps the rest in order and NULL-ended,
 * and takes n past the end (or an empty vector) as "all". */
TEST_IMPL(strvec_drop_front)
{
	struct strvec sv = STRVEC_INIT;

	strvec_drop_front(&sv, 3);		/* empty: nothing to do */
	ASSERT_EQ(sv.n, 0);
	for (int i = 0; i < 5; i++)
		strvec_pushf(&sv, "r%d", i);
	strvec_drop_front(&sv, 0);
	ASSERT_EQ(sv.n, 5);
	strvec_drop_front(&sv, 2);
	ASSERT_EQ(sv.n, 3);
	ASSERT_STR_EQ(sv.v[0], "r2");
	ASSERT_STR_EQ(sv.v[2], "r4");
	ASSERT_NULL(sv.v[3]);
	strvec_drop_front(&sv, 10);
	ASSERT_EQ(sv.n, 0);
	ASSERT_NULL(sv.v[0]);
	strvec_push(&sv, "again");		/* the storage is reused */
	ASSERT_STR_EQ(sv.v[0], "again");
	ASSERT_NULL(sv.v[1]);
	strvec_clear(&sv);
	return 0;
}
