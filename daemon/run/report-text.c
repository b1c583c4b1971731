/* A finished run as a person reads it in a terminal: what ran and how it
 * ended in one line, then each finding as `path:line:col: CODE message
 * [gate]` (the form editors and terminals turn into links), grouped by
 * file. A run of thousands of findings stays readable: the first few are
 * listed and the rest are one `watchd show` away. The text is for stdout:
 * it is coloured as lib/color decided for fd 1 (never, unless the CLI set
 * colour up for a terminal or was asked). */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "gates/gate.h"
#include "lib/color.h"
#include "lib/xmalloc.h"
#include "report-text.h"

static const char *jstr(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int jint(const cJSON *o, const char *k, int dflt)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsNumber(v) ? v->valueint : dflt;
}

/* "name" in a run's gates, "gate" in a gate_finished event */
static const char *gate_name(const cJSON *g)
{
	const char *n = jstr(g, "name");

	return n ? n : jstr(g, "gate");
}

/* The gate's finding count: findings_count when the list was capped. */
static size_t findings_count(const cJSON *g)
{
	int n = jint(g, "findings_count", -1);

	if (n >= 0)
		return (size_t)n;
	return (size_t)cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(g, "findings"));
}

static int files_count(const cJSON *g)
{
	int n = jint(g, "files_count", -1);

	return n >= 0 ? n : cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(g, "files"));
}

/* A status word in its colour (none on a pipe). */
static void add_status(struct buf *out, const char *st)
{
	buf_addf(out, "%s%s%s", color_on_status(1, st), st ? st : "?",
	    color_on_status(1, st)[0] ? color_off(1) : "");
}

static void plural(struct buf *out, long n, const char *what)
{
	buf_addf(out, "%ld %s%s", n, what, n == 1 ? "" : "s");
}

void report_text_gate(const cJSON *g, struct buf *out)
{
	const char *name = gate_name(g), *st = jstr(g, "status");
	size_t nf = findings_count(g);

	buf_addf(out, "%s ", name ? name : "?");
	add_status(out, st);
	buf_addstr(out, " (");
	plural(out, files_count(g), "file");
	if (nf > 0) {
		buf_addstr(out, ", ");
		plural(out, (long)nf, "finding");
	}
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(g, "cached")))
		buf_addstr(out, ", cached");
	buf_addch(out, ')');
}

/* A message stays on its line, whatever the tool wrote. */
static void add_oneline(struct buf *out, const char *s)
{
	for (; *s; s++)
		buf_addch(out, (*s == '\n' || *s == '\r' || *s == '\t') ? ' ' : *s);
}

void report_text_finding(const cJSON *f, const char *gate, struct buf *out)
{
	const char *path = jstr(f, "path"), *code = jstr(f, "code"), *msg = jstr(f, "message");
	int line = jint(f, "line", 0), col = jint(f, "col", 0);

	if (path) {
		char *q = gate_quote_path(path);

		buf_addf(out, "%s%s%s", color_on(1, COLOR_PATH), q, color_off(1));
		free(q);
		if (line > 0) {
			buf_addf(out, ":%d", line);
			if (col > 0)
				buf_addf(out, ":%d", col);
		}
		buf_addstr(out, ": ");
	}
	if (code && *code) {
		add_oneline(out, code);
		buf_addch(out, ' ');
	}
	add_oneline(out, msg ? msg : "");
	if (gate)
		buf_addf(out, " [%s]", gate);
	buf_addch(out, '\n');
}

struct entry {
	const cJSON	*f;
	const char	*gate;
	size_t		 order;		/* gate, then the tool's order */
};

static int entry_cmp(const void *pa, const void *pb)
{
	const struct entry *a = pa, *b = pb;
	const char *p = jstr(a->f, "path"), *q = jstr(b->f, "path");
	int c, x, y;

	/* findings of no file (a gate run as a whole) come last */
	if (!p != !q)
		return p ? -1 : 1;
	if (p && (c = strcmp(p, q)) != 0)
		return c;
	x = jint(a->f, "line", 0);
	y = jint(b->f, "line", 0);
	if (x != y)
		return x < y ? -1 : 1;
	x = jint(a->f, "col", 0);
	y = jint(b->f, "col", 0);
	if (x != y)
		return x < y ? -1 : 1;
	return a->order < b->order ? -1 : a->order > b->order;
}

size_t report_text_findings(const cJSON *gates, size_t cap, struct buf *out)
{
	const cJSON *g, *f;
	struct entry *v;
	size_t n = 0, total = 0, listed;

	cJSON_ArrayForEach(g, gates) {
		n += (size_t)cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(g, "findings"));
		total += findings_count(g);
	}
	v = xcalloc(n ? n : 1, sizeof(*v));
	n = 0;
	cJSON_ArrayForEach(g, gates) {
		cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(g, "findings")) {
			v[n].f = f;
			v[n].gate = gate_name(g);
			v[n].order = n;
			n++;
		}
	}
	qsort(v, n, sizeof(*v), entry_cmp);
	listed = n < cap ? n : cap;
	for (size_t i = 0; i < listed; i++)
		report_text_finding(v[i].f, v[i].gate, out);
	free(v);
	return total > listed ? total - listed : 0;
}

void report_text_gate_why(const cJSON *g, struct buf *out)
{
	const char *gs = jstr(g, "status"), *msg = jstr(g, "message");

	if (gs && strcmp(gs, "pass") != 0 && strcmp(gs, "skipped") != 0 && msg &&
	    cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(g, "findings")) == 0) {
		buf_addf(out, "%s: ", gate_name(g) ? gate_name(g) : "?");
		add_status(out, gs);
		buf_addstr(out, ": ");
		add_oneline(out, msg);
		buf_addch(out, '\n');
	}
}

static bool summary_all_pass(const cJSON *sum, long *findings)
{
	const cJSON *g;
	bool pass = true;

	*findings = 0;
	cJSON_ArrayForEach(g, sum) {
		const char *st = jstr(g, "status");

		if (st == NULL || strcmp(st, "pass") != 0)
			pass = false;
		*findings += jint(g, "findings", 0);
	}
	return pass;
}

/* Gates of the summary that do not pass: "shellcheck (2 files, 3
 * findings)", or nothing when all do. */
static void still_failing(const cJSON *sum, struct buf *out)
{
	const cJSON *g;
	bool first = true;

	cJSON_ArrayForEach(g, sum) {
		const char *st = jstr(g, "status"), *name = jstr(g, "name");
		int files = jint(g, "failing_files", 0) + jint(g, "error_files", 0);
		int nf = jint(g, "findings", 0);

		if (st == NULL || strcmp(st, "pass") == 0)
			continue;
		buf_addstr(out, first ? "; still failing: " : ", ");
		first = false;
		buf_addf(out, "%s ", name ? name : "?");
		add_status(out, st);
		buf_addstr(out, " (");
		plural(out, files, "file");
		if (nf > 0) {
			buf_addstr(out, ", ");
			plural(out, nf, "finding");
		}
		buf_addch(out, ')');
	}
}

void report_text_run(const cJSON *run, const cJSON *before, const cJSON *after, size_t cap,
    struct buf *out)
{
	const cJSON *gates = cJSON_GetObjectItemCaseSensitive(run, "gates"), *g;
	const char *id = jstr(run, "id"), *st = jstr(run, "status");
	bool passed = st && strcmp(st, "pass") == 0, first = true;
	long was = 0, now = 0;
	size_t more;

	if (!id)
		id = jstr(run, "run_id");
	if (!id)
		id = "?";
	buf_addf(out, "run %s ", id);
	add_status(out, st);
	/* The line a person waits for after fixing the last problem. */
	if (passed && before && after && !summary_all_pass(before, &was) &&
	    summary_all_pass(after, &now) && cJSON_GetArraySize(after) > 0) {
		buf_addstr(out, ": all gates pass again");
		if (was > now) {
			buf_addstr(out, " (fixed ");
			plural(out, was - now, "finding");
			buf_addch(out, ')');
		}
		buf_addch(out, '\n');
		return;
	}
	cJSON_ArrayForEach(g, gates) {
		buf_addstr(out, first ? ": " : ", ");
		first = false;
		report_text_gate(g, out);
	}
	if (passed && after)
		still_failing(after, out);
	buf_addch(out, '\n');
	more = report_text_findings(gates, cap, out);
	cJSON_ArrayForEach(g, gates)
		report_text_gate_why(g, out);
	if (more > 0)
		buf_addf(out, "... %zu more: watchd show %s\n", more, id);
}
