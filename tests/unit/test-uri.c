/* uri: relative references from paths, as SARIF's artifactLocation.uri
 * needs them (RFC 3986): reserved and non-ASCII bytes encoded, no path
 * that reads as a scheme. */
#include "lib/uri.h"
#include "test.h"

static int check(const char *path, const char *want)
{
	struct buf b = BUF_INIT;

	uri_add_relpath(&b, path);
	ASSERT_STR_EQ(b.buf ? b.buf : "", want);
	buf_release(&b);
	return 0;
}

TEST_IMPL(uri_relpath_encoding)
{
	ASSERT_EQ(check("src/a.py", "src/a.py"), 0);
	ASSERT_EQ(check("a b.sh", "a%20b.sh"), 0);
	ASSERT_EQ(check("100%.sh", "100%25.sh"), 0);
	ASSERT_EQ(check("x#y?z.sh", "x%23y%3Fz.sh"), 0);
	ASSERT_EQ(check("caf\xC3\xA9/\xE2\x82\xAC.sh", "caf%C3%A9/%E2%82%AC.sh"), 0);
	ASSERT_EQ(check("[a]\\b\"<>^`{|}.sh", "%5Ba%5D%5Cb%22%3C%3E%5E%60%7B%7C%7D.sh"), 0);
	ASSERT_EQ(check("a\tb\nc", "a%09b%0Ac"), 0);
	ASSERT_EQ(check("keep-._~!$&'()*+,;=@.sh", "keep-._~!$&'()*+,;=@.sh"), 0);
	/* a colon in the first segment would read as a scheme */
	ASSERT_EQ(check("c:/x.sh", "./c:/x.sh"), 0);
	ASSERT_EQ(check("http:x.sh", "./http:x.sh"), 0);
	ASSERT_EQ(check("dir/a:b.sh", "dir/a:b.sh"), 0);
	return 0;
}
