/* "parser": "junit" — JUnit XML (pytest --junitxml, Pester JUnitXml, ruff)
 * and NUnit 2.5 XML (Pester's default) through one expat reader.
 *
 * Both formats nest suites around cases, so the reader keeps a stack of open
 * suites: a case's file is the nearest suite (or JUnit classname/file
 * attribute) that names a file, and a suite that failed without holding any
 * case is a container that never loaded (a syntax error in a test file). */
#include <ctype.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <expat.h>

#include "lib/decnum.h"
#include "lib/buf.h"
#include "lib/xmalloc.h"
#include "parser.h"

#define MAX_SUITES	64
#define MAX_CAPTURE	(64 * 1024)	/* failure text kept per case */

enum case_state { CASE_PASS, CASE_FAIL, CASE_SKIP };

struct suite {
	char	*name;
	bool	 failed;	/* NUnit result Failure/Error */
	int	 errors;	/* JUnit errors attribute */
	int	 ncases;	/* cases inside, at any depth */
};

struct reader {
	XML_Parser	 xp;
	const char	*root;
	const char *const *files;	/* the batch: to pin dotted class names on files */
	size_t		 nfiles;
	struct gate_result *r;
	struct suite	 suites[MAX_SUITES];
	int		 nsuites;
	int		 depth;		/* suites deeper than MAX_SUITES are not kept */
	bool		 in_case;
	enum case_state	 state;
	char		*name, *classname, *file;
	int		 line;
	char		*fail_attr;	/* JUnit failure@message */
	struct buf	 msg;		/* NUnit <message> */
	struct buf	 stack;		/* NUnit <stack-trace>, JUnit failure text */
	struct buf	*capture;	/* where character data goes, or NULL */
	char		*container_msg;	/* first container that failed to load */
	int		 nunit_errors;
	int		 total, passed, failed, skipped;
};

static const char *attr(const XML_Char **a, const char *key)
{
	for (; a[0]; a += 2)
		if (strcmp(a[0], key) == 0)
			return a[1];
	return NULL;
}

static int attr_int(const XML_Char **a, const char *key)
{
	const char *v = attr(a, key);

	return v ? atoi(v) : 0;
}

/* Absolute (POSIX or a Windows drive), or a file name with an extension
 * after a directory: Describe/Context names rarely look like that. */
static bool looks_like_file(const char *s)
{
	const char *slash, *dot;
	size_t n;

	if (s == NULL || *s == '\0')
		return false;
	n = strlen(s);
	if (n > 4 && strcasecmp(s + n - 4, ".ps1") == 0)
		return true;
	if (s[0] == '/' || (isalpha((unsigned char)s[0]) && s[1] == ':' &&
	    (s[2] == '\\' || s[2] == '/')))
		return true;
	slash = strrchr(s, '/');
	dot = strrchr(s, '.');
	return slash && dot > slash && !strchr(s, ' ');
}

static const char *suite_file(const struct reader *rd)
{
	for (int i = rd->nsuites - 1; i >= 0; i--)
		if (looks_like_file(rd->suites[i].name))
			return rd->suites[i].name;
	return NULL;
}

static void clear_case(struct reader *rd)
{
	free(rd->name);
	free(rd->classname);
	free(rd->file);
	free(rd->fail_attr);
	rd->name = rd->classname = rd->file = rd->fail_attr = NULL;
	buf_reset(&rd->msg);
	buf_reset(&rd->stack);
	rd->capture = NULL;
	rd->line = 0;
	rd->in_case = false;
}

/* NUnit results: Success, Failure, Error, Ignored, Skipped, NotRunnable,
 * Inconclusive (FORMATS.md §3.2); executed="False" never ran. */
static void start_case(struct reader *rd, const XML_Char **a, bool nunit)
{
	const char *res = attr(a, "result"), *ex = attr(a, "executed");

	clear_case(rd);
	rd->in_case = true;
	rd->state = CASE_PASS;
	rd->name = xstrdup(attr(a, "name") ? attr(a, "name") : "(unnamed test)");
	if (attr(a, "classname"))
		rd->classname = xstrdup(attr(a, "classname"));
	if (attr(a, "file"))
		rd->file = xstrdup(attr(a, "file"));
	rd->line = attr_int(a, "line");
	if (!nunit)
		return;
	if (res && (strcmp(res, "Failure") == 0 || strcmp(res, "Error") == 0))
		rd->state = CASE_FAIL;
	else if ((res && strcmp(res, "Success") != 0) || (ex && strcasecmp(ex, "False") == 0))
		rd->state = CASE_SKIP;
}

static void start_suite(struct reader *rd, const XML_Char **a, bool nunit)
{
	const char *res = attr(a, "result");
	struct suite *s;

	if (rd->depth++ >= MAX_SUITES)
		return;
	s = &rd->suites[rd->nsuites++];
	s->name = xstrdup(attr(a, "name") ? attr(a, "name") : "");
	s->failed = nunit && res && (strcmp(res, "Failure") == 0 || strcmp(res, "Error") == 0);
	s->errors = nunit ? 0 : attr_int(a, "errors");
	s->ncases = 0;
}

static void XMLCALL on_start(void *ud, const XML_Char *el, const XML_Char **a)
{
	struct reader *rd = ud;

	if (strcmp(el, "testcase") == 0 || strcmp(el, "test-case") == 0)
		start_case(rd, a, el[4] == '-');
	else if (strcmp(el, "testsuite") == 0 || strcmp(el, "test-suite") == 0)
		start_suite(rd, a, el[4] == '-');
	else if (strcmp(el, "test-results") == 0)
		rd->nunit_errors = attr_int(a, "errors");
	else if (!rd->in_case)
		return;
	else if (strcmp(el, "failure") == 0 || strcmp(el, "error") == 0) {
		rd->state = CASE_FAIL;
		if (attr(a, "message") && !rd->fail_attr)
			rd->fail_attr = xstrdup(attr(a, "message"));
		rd->capture = &rd->stack;
	} else if (strcmp(el, "skipped") == 0) {
		if (rd->state != CASE_FAIL)
			rd->state = CASE_SKIP;
	} else if (strcmp(el, "message") == 0)
		rd->capture = &rd->msg;
	else if (strcmp(el, "stack-trace") == 0)
		rd->capture = &rd->stack;
}

static void XMLCALL on_text(void *ud, const XML_Char *s, int len)
{
	struct reader *rd = ud;

	if (rd->capture && rd->capture->len + (size_t)len <= MAX_CAPTURE)
		buf_add(rd->capture, s, (size_t)len);
}

/* The first non-blank line, trimmed. */
static char *first_line(const char *s)
{
	const char *e;

	while (*s && isspace((unsigned char)*s))
		s++;
	e = s + strcspn(s, "\r\n");
	while (e > s && isspace((unsigned char)e[-1]))
		e--;
	return xstrndup(s, (size_t)(e - s));
}

/* One stack frame's "FILE:N" / "FILE: line N" (Pester 5 / 4) or
 * "line: N in FILE" (Pester 3). 0 when the line has no number. */
static int frame(const char *s, size_t n, const char **file, size_t *flen)
{
	size_t e = n, d;
	int line;

	if (n > 9 && strncmp(s, "at line: ", 9) == 0) {
		const char *in = strstr(s, " in ");

		if (in == NULL || in >= s + n)
			return 0;
		*file = in + 4;
		*flen = (size_t)(s + n - *file);
		return decnum(s + 9, n - 9);
	}
	for (d = e; d > 0 && isdigit((unsigned char)s[d - 1]); d--)
		;
	if (d == e)
		return 0;
	if (d >= 7 && strncmp(s + d - 7, ": line ", 7) == 0)
		*flen = d - 7;
	else if (d >= 1 && s[d - 1] == ':')
		*flen = d - 1;
	else
		return 0;
	*file = s;
	line = decnum(s + d, e - d);
	for (size_t i = *flen; i > 1; i--) {
		if (s[i - 2] == ',' && s[i - 1] == ' ') {
			*file = s + i;
			*flen -= i;
			break;
		}
	}
	return line;
}

/* The frame in the test file itself, else the "<ScriptBlock>" frame. */
/* pytest ends a failure with "tests/test_m.py:5: AssertionError": the
 * last "PATH:N:" in the text is the line in the test file. */
static int path_line(const char *text, const char *path)
{
	size_t n = path ? strlen(path) : 0;
	int line = 0;

	if (n == 0)
		return 0;
	for (const char *p = strstr(text, path); p; p = strstr(p + 1, path)) {
		char *end;
		long v;

		if (p[n] != ':')
			continue;
		v = strtol(p + n + 1, &end, 10);
		if (v > 0 && *end == ':')
			line = (int)v;
	}
	return line;
}

static int stack_line(const char *stack, const char *path)
{
	int fallback = 0;

	for (const char *p = stack; *p;) {
		size_t n = strcspn(p, "\r\n");
		const char *file = NULL;
		size_t flen = 0;
		int line;

		while (n && isspace((unsigned char)*p))
			p++, n--;
		line = frame(p, n, &file, &flen);
		if (line > 0 && path && strlen(path) == flen && strncmp(file, path, flen) == 0)
			return line;
		if (line > 0 && !fallback && strncmp(p, "at <ScriptBlock>", 16) == 0)
			fallback = line;
		p += n;
		p += strspn(p, "\r\n");
	}
	return fallback ? fallback : path_line(stack, path);
}

/* pytest's classname is a dotted module path ("tests.test_foo" or
 * "tests.test_foo.TestX"): the batch file it names, or NULL. */
static char *file_of_class(const struct reader *rd, const char *cls)
{
	char *path, *dot;

	if (cls == NULL || rd->nfiles == 0)
		return NULL;
	path = xstrdup(cls);
	for (char *c = path; *c; c++)
		if (*c == '.')
			*c = '/';
	for (;;) {
		for (size_t i = 0; i < rd->nfiles; i++) {
			const char *f = rd->files[i];
			size_t n = strlen(path);

			if (f[0] == '.' && f[1] == '/')
				f += 2;
			if (strncmp(f, path, n) == 0 && f[n] == '.' && strchr(f + n + 1, '/') == NULL) {
				char *hit = xstrdup(f);

				free(path);
				return hit;
			}
		}
		dot = strrchr(path, '/');
		if (dot == NULL)
			break;
		*dot = '\0';
	}
	free(path);
	return NULL;
}

static void end_case(struct reader *rd)
{
	struct finding f = { 0 };
	const char *path = rd->file;
	char *msg, *guessed = NULL;

	for (int i = 0; i < rd->nsuites; i++)
		rd->suites[i].ncases++;
	rd->total++;
	if (rd->state != CASE_FAIL) {
		if (rd->state == CASE_PASS)
			rd->passed++;
		else
			rd->skipped++;
		clear_case(rd);
		return;
	}
	rd->failed++;
	if (path == NULL && looks_like_file(rd->classname))
		path = rd->classname;
	if (path == NULL)
		path = suite_file(rd);
	if (path == NULL)
		path = guessed = file_of_class(rd, rd->classname);
	if (rd->msg.len)
		msg = first_line(rd->msg.buf);
	else if (rd->fail_attr)
		msg = first_line(rd->fail_attr);
	else
		msg = first_line(rd->stack.buf);
	f.path = gate_relpath(rd->root, path);
	f.line = rd->line ? rd->line : stack_line(rd->stack.buf, path);
	f.code = rd->name;
	f.severity = "error";
	f.message = msg[0] ? msg : "test failed";
	findings_add(&rd->r->findings, &f);
	free(f.path);
	free(msg);
	free(guessed);
	clear_case(rd);
}

static void end_suite(struct reader *rd)
{
	struct suite *s;

	if (--rd->depth >= MAX_SUITES || rd->nsuites == 0)
		return;
	s = &rd->suites[--rd->nsuites];
	if ((s->failed || s->errors > 0) && s->ncases == 0 && rd->container_msg == NULL)
		rd->container_msg = xasprintf("test container failed to load: %s", s->name);
	free(s->name);
}

static void XMLCALL on_end(void *ud, const XML_Char *el)
{
	struct reader *rd = ud;

	if (strcmp(el, "testcase") == 0 || strcmp(el, "test-case") == 0) {
		if (rd->in_case)
			end_case(rd);
	} else if (strcmp(el, "testsuite") == 0 || strcmp(el, "test-suite") == 0)
		end_suite(rd);
	else if (strcmp(el, "failure") == 0 || strcmp(el, "error") == 0 ||
	    strcmp(el, "message") == 0 || strcmp(el, "stack-trace") == 0)
		rd->capture = NULL;
}

static void finish(struct reader *rd)
{
	struct gate_result *r = rd->r;

	r->tests_total = rd->total;
	r->tests_passed = rd->passed;
	r->tests_failed = rd->failed;
	r->tests_skipped = rd->skipped;
	if (rd->container_msg) {
		r->status = GATE_ERROR;
		gate_result_msg(r, "%s", rd->container_msg);
	} else if (rd->nunit_errors > 0) {
		r->status = GATE_ERROR;
		gate_result_msg(r, "%d test container(s) failed to load", rd->nunit_errors);
	} else
		r->status = rd->failed ? GATE_FAIL : GATE_PASS;
}

int junit_read(const char *root, const char *const *files, size_t nfiles, const char *xml,
    size_t len, struct gate_result *r)
{
	struct reader rd = { 0 };

	rd.root = root;
	rd.files = files;
	rd.nfiles = nfiles;
	rd.r = r;
	rd.msg = (struct buf)BUF_INIT;
	rd.stack = (struct buf)BUF_INIT;
	xml = gate_skip_bom(xml, &len);
	rd.xp = XML_ParserCreate("UTF-8");
	if (rd.xp == NULL)
		abort();
	XML_SetUserData(rd.xp, &rd);
	XML_SetElementHandler(rd.xp, on_start, on_end);
	XML_SetCharacterDataHandler(rd.xp, on_text);
	if (len > INT_MAX || XML_Parse(rd.xp, xml, (int)len, 1) != XML_STATUS_OK) {
		findings_release(&r->findings);
		r->status = GATE_ERROR;
		gate_result_msg(r, "cannot parse the test report: line %lu: %s",
		    (unsigned long)XML_GetCurrentLineNumber(rd.xp),
		    len > INT_MAX ? "too large" : XML_ErrorString(XML_GetErrorCode(rd.xp)));
	} else
		finish(&rd);
	clear_case(&rd);
	while (rd.nsuites > 0)
		free(rd.suites[--rd.nsuites].name);
	free(rd.container_msg);
	buf_release(&rd.msg);
	buf_release(&rd.stack);
	XML_ParserFree(rd.xp);
	return 0;
}

/* The {report} file when the gate has one, else what the tool printed. */
int parse_junit(const struct gate *g, const struct gate_output *out, struct gate_result *r)
{
	const char *xml = out->report;
	size_t len = out->report_len, i = 0;

	(void)g;
	if (xml == NULL || len == 0) {
		if (!gate_output_whole(out, false, r))
			return 0;
		xml = out->out;
		len = out->out_len;
	}
	while (xml && i < len && isspace((unsigned char)xml[i]))
		i++;
	if (xml == NULL || i == len) {
		char *ex = gate_excerpt(out->err, out->err_len);

		r->status = GATE_ERROR;
		gate_result_msg(r, "no test report (exit status %d): %s", out->exit_code, ex);
		free(ex);
		return 0;
	}
	return junit_read(out->root, out->files, out->nfiles, xml, len, r);
}
