/* "parser": "gcc" — "file:line:col: severity: message [code]" lines, the
 * de-facto format of gcc, clang, shellcheck -f gcc and many linters. Lines
 * of other shapes ("In function ...", source excerpts, carets) are skipped.
 * The findings exit code is 1: a tool that exits otherwise, or exits 1
 * leaving a line that is neither a diagnostic nor compiler context (a
 * crash message such as shellcheck's "hPutChar: invalid argument"), ended
 * abnormally, and its verdict is not trusted per file. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "lib/decnum.h"
#include "lib/xmalloc.h"
#include "parser.h"

static const struct {
	const char	*word;		/* as printed, between ": " and ": " */
	const char	*severity;	/* ours */
} severities[] = {
	{ "fatal error", "error" }, { "error", "error" }, { "warning", "warning" },
	{ "note", "info" }, { "info", "info" }, { "style", "info" },
};

/* Reads ":N" ending at *end (exclusive) backwards; *end moves to the ':'. */
static int num_back(const char *s, size_t *end)
{
	size_t d = *end, n;

	while (d > 0 && isdigit((unsigned char)s[d - 1]) && *end - d < 9)
		d--;
	if (d == *end || d == 0 || s[d - 1] != ':')
		return 0;
	n = *end - d;
	*end = d - 1;
	return decnum(s + d, n);
}

/* Splits a trailing " [CODE]" off msg (length *n): shellcheck's [SC2086],
 * gcc's [-Wunused-variable]. */
static char *take_code(const char *msg, size_t *n)
{
	size_t e = *n, b;

	if (e < 3 || msg[e - 1] != ']')
		return NULL;
	for (b = e - 1; b > 0 && msg[b - 1] != '[' && !isspace((unsigned char)msg[b - 1]); b--)
		;
	if (b < 2 || msg[b - 1] != '[' || b == e - 1 || msg[b - 2] != ' ')
		return NULL;
	*n = b - 2;
	return xstrndup(msg + b, e - 1 - b);
}

/* A finding's path must name a file of the batch when the tool was given
 * the files: a name with a newline reaches us cut at its last newline
 * ("bad\nnl.sh" reads as "nl.sh"), and that is mended; any other path
 * (a header, a file the tool found itself) stays in the message, and the
 * finding belongs to the gate run rather than to a file watchd never
 * asked about. A task runner (no file names in its argv) keeps its paths. */
static void attribute(const struct gate *g, const struct gate_output *out, struct finding *f)
{
	const char *mine;
	char *msg;

	if (g->batching == GATE_BATCH_NONE || out->nfiles == 0 || f->path == NULL)
		return;
	if ((mine = gate_batch_file(out, f->path)) != NULL) {
		if (strcmp(mine, f->path) != 0) {
			free(f->path);
			f->path = xstrdup(mine);
		}
		return;
	}
	msg = xasprintf("%s: %s", f->path, f->message);
	free(f->message);
	f->message = msg;
	free(f->path);
	f->path = NULL;
}

/* One line; returns 1 when it was a diagnostic. */
static int parse_line(const struct gate *g, const struct gate_output *out, const char *s,
    size_t n, struct gate_result *r)
{
	const char *root = out->root;

	for (const char *p = s; (p = memchr(p, ':', (size_t)(s + n - p))) != NULL; p++) {
		for (size_t k = 0; k < sizeof(severities) / sizeof(*severities); k++) {
			size_t wl = strlen(severities[k].word), pre = (size_t)(p - s), mlen;
			const char *msg = p + 2 + wl + 2;
			struct finding f = { 0 };
			char *path;

			if ((size_t)(s + n - p) < wl + 4 || p[1] != ' ' ||
			    strncmp(p + 2, severities[k].word, wl) != 0 || p[2 + wl] != ':' ||
			    p[3 + wl] != ' ')
				continue;
			/* "file:L:C" or "file:L" before the severity, read from the right
			 * so that a ':' in the file name is harmless */
			f.col = num_back(s, &pre);
			f.line = num_back(s, &pre);
			if (f.line == 0) {
				f.line = f.col;
				f.col = 0;
			}
			if (f.line == 0 || pre == 0)
				continue;
			mlen = (size_t)(s + n - msg);
			f.code = take_code(msg, &mlen);
			f.message = xstrndup(msg, mlen);
			path = xstrndup(s, pre);
			f.path = gate_relpath(root, path);
			attribute(g, out, &f);
			f.severity = (char *)severities[k].severity;
			findings_add(&r->findings, &f);
			free(path);
			free(f.path);
			free(f.code);
			free(f.message);
			return 1;
		}
	}
	return 0;
}

static bool has_prefix(const char *s, size_t n, const char *pre)
{
	size_t k = strlen(pre);

	return n >= k && memcmp(s, pre, k) == 0;
}

static bool has_suffix(const char *s, size_t n, const char *suf)
{
	size_t k = strlen(suf);

	return n >= k && memcmp(s + n - k, suf, k) == 0;
}

/* What compilers print around their diagnostics: source excerpts and
 * carets (indented), "a.c: In function 'f':" and other headers ending in
 * ':', include chains, and closing counts. */
static bool is_context(const char *s, size_t n)
{
	return n == 0 || s[0] == ' ' || s[0] == '\t' || s[n - 1] == ':' ||
	    has_prefix(s, n, "In file included from ") || has_suffix(s, n, " generated.") ||
	    has_suffix(s, n, "compilation terminated.") ||
	    has_suffix(s, n, "being treated as errors");
}

/* A line of a batch file name that holds newlines: the tool printed the
 * name whole, so its diagnostic came as several lines. */
static bool is_name_part(const struct gate_output *out, const char *s, size_t n)
{
	for (size_t i = 0; i < out->nfiles; i++) {
		const char *f = out->files[i], *nl;

		while ((nl = strchr(f, '\n')) != NULL) {
			if ((size_t)(nl - f) == n && memcmp(f, s, n) == 0)
				return true;
			f = nl + 1;
		}
	}
	return false;
}

/* Returns how many lines were neither diagnostics nor context. */
static size_t parse_text(const struct gate *g, const struct gate_output *out, const char *text,
    size_t len, struct gate_result *r)
{
	const char *p = text, *end;
	size_t unread = 0;

	if (text == NULL)	/* no stream: NULL + 0 is undefined, so stop here */
		return 0;
	end = text + len;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);

		if (n && p[n - 1] == '\r')
			n--;
		if (!parse_line(g, out, p, n, r) && !is_context(p, n) && !is_name_part(out, p, n))
			unread++;
		p += n;
		while (p < end && (*p == '\r' || *p == '\n'))
			p++;
	}
	return unread;
}

/* The first non-blank line, for a failing tool that said nothing we know. */
static char *first_line(const char *s, size_t len)
{
	size_t b = 0, e;

	while (b < len && isspace((unsigned char)s[b]))
		b++;
	for (e = b; e < len && s[e] != '\n' && s[e] != '\r'; e++)
		;
	return gate_excerpt(s + b, e - b);
}

int parse_gcc(const struct gate *g, const struct gate_output *out, struct gate_result *r)
{
	bool bad = false;
	size_t unread;

	if (!gate_output_whole(out, true, r))
		return 0;
	unread = parse_text(g, out, out->out, out->out_len, r);
	unread += parse_text(g, out, out->err, out->err_len, r);
	r->abnormal = out->exit_code != 0 && (out->exit_code != 1 || unread > 0);
	for (size_t i = 0; i < r->findings.n; i++)
		if (strcmp(r->findings.v[i].severity, "info") != 0)
			bad = true;
	r->status = bad || out->exit_code != 0 ? GATE_FAIL : GATE_PASS;
	if (out->exit_code != 0 && (r->findings.n == 0 || r->abnormal)) {
		char *l = out->err_len ? first_line(out->err, out->err_len) :
		    first_line(out->out ? out->out : "", out->out_len);

		gate_result_msg(r, "exited with status %d: %s", out->exit_code, l);
		free(l);
	}
	return 0;
}
