/* Unit test macros in the manner of libuv's task.h: on failure they print
 * file:line and both values, then abort the (forked) test. */
#ifndef WD_TEST_H
#define WD_TEST_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TEST_IMPL(name) int test_##name(void); int test_##name(void)

/* "$TMPDIR/NAME-XXXXXX" (else under /tmp), malloc'ed: a template for
 * mkstemp or mkdtemp. */
static inline char *test_tmpl(const char *name)
{
	const char *base = getenv("TMPDIR");
	size_t n = strlen(base && *base ? base : "/tmp") + strlen(name) + 9;
	char *t = malloc(n);

	if (t)
		snprintf(t, n, "%s/%s-XXXXXX", base && *base ? base : "/tmp", name);
	return t;
}

#define FAIL_(...) do { fprintf(stderr, "%s:%d: ", __FILE__, __LINE__); \
	fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); abort(); } while (0)

#define ASSERT(e) do { if (!(e)) FAIL_("assertion failed: %s", #e); } while (0)
#define ASSERT_EQ(a, b) do { int64_t a_ = (int64_t)(a), b_ = (int64_t)(b); \
	if (a_ != b_) FAIL_("%s == %s: %" PRId64 " != %" PRId64, #a, #b, a_, b_); } while (0)
#define ASSERT_NE(a, b) do { int64_t a_ = (int64_t)(a), b_ = (int64_t)(b); \
	if (a_ == b_) FAIL_("%s != %s: both %" PRId64, #a, #b, a_); } while (0)
#define ASSERT_OK(e) ASSERT_EQ((e), 0)
#define ASSERT_NULL(e) do { if ((e) != NULL) FAIL_("%s is not NULL", #e); } while (0)
#define ASSERT_NOT_NULL(e) do { if ((e) == NULL) FAIL_("%s is NULL", #e); } while (0)
#define ASSERT_STR_EQ(a, b) do { const char *a_ = (a), *b_ = (b); \
	if (a_ == NULL || b_ == NULL || strcmp(a_, b_) != 0) \
		FAIL_("%s == %s: \"%s\" != \"%s\"", #a, #b, a_ ? a_ : "(null)", b_ ? b_ : "(null)"); } while (0)
#define ASSERT_CONTAINS(hay, needle) do { const char *h_ = (hay), *n_ = (needle); \
	if (h_ == NULL || strstr(h_, n_) == NULL) \
		FAIL_("\"%s\" does not contain \"%s\"", h_ ? h_ : "(null)", n_); } while (0)

/* Writes text to root/rel (created or truncated). */
static inline void test_put(const char *root, const char *rel, const char *text)
{
	size_t n = strlen(root) + strlen(rel) + 2;
	char *p = malloc(n);
	FILE *f;

	ASSERT_NOT_NULL(p);
	snprintf(p, n, "%s/%s", root, rel);
	f = fopen(p, "w");
	ASSERT_NOT_NULL(f);
	fputs(text, f);
	fclose(f);
	free(p);
}

/* Path of a fixture under tests/fixtures (tests run from the repo root). */
#define FIXTURE(rel) ("tests/fixtures/" rel)

#endif
