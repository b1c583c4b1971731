/* PowerShell quoting for the pwsh-based executors (see pwsh.h). */
#include <string.h>

#include "pwsh.h"

/* U+2018..U+201B are E2 80 98..9B in UTF-8; PowerShell's tokenizer treats
 * them as "'" (CharExtensions.IsSingleQuote), so they end a literal too. */
static size_t quote_len(const char *s)
{
	if (s[0] == '\'')
		return 1;
	if ((unsigned char)s[0] == 0xe2 && (unsigned char)s[1] == 0x80 &&
	    (unsigned char)s[2] >= 0x98 && (unsigned char)s[2] <= 0x9b)
		return 3;
	return 0;
}

void pwsh_quote(struct buf *b, const char *s)
{
	buf_addch(b, '\'');
	while (*s) {
		size_t q = quote_len(s);

		if (q) {
			/* a doubled quote stands for one (the second) quote */
			buf_add(b, s, q);
			buf_add(b, s, q);
			s += q;
		} else
			buf_addch(b, *s++);
	}
	buf_addch(b, '\'');
}

void pwsh_quote_files(struct buf *b, const char *const *files, size_t n)
{
	buf_addstr(b, "@(");
	for (size_t i = 0; i < n; i++) {
		if (i)
			buf_addstr(b, ", ");
		if (files[i][0] == '-') {
			struct buf t = BUF_INIT;

			buf_addstr(&t, "./");
			buf_addstr(&t, files[i]);
			pwsh_quote(b, t.buf);
			buf_release(&t);
		} else
			pwsh_quote(b, files[i]);
	}
	buf_addstr(b, ")");
}

void pwsh_argv(struct strvec *argv, const char *script)
{
	strvec_push(argv, "pwsh");
	strvec_push(argv, "-NoLogo");
	strvec_push(argv, "-NoProfile");
	strvec_push(argv, "-NonInteractive");
	strvec_push(argv, "-Command");
	strvec_push(argv, script);
}
