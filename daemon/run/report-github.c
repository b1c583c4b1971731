/* GitHub Actions output: workflow commands on stdout and the Markdown job
 * summary. GitHub shows at most 10 error, 10 warning and 10 notice
 * annotations per step (50 per job) and drops the rest in the order they
 * came, so the annotations are sorted most severe first and cut at those
 * caps by us; every finding stays in the per-gate log groups and in the
 * summary. Pure: a run in, text out. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "lib/xmalloc.h"
#include "report.h"
#include "select.h"

/* GitHub refuses a step summary over 1 MiB: stay under it */
#define SUMMARY_BUDGET	(1000 * 1000)


static bool broken(const char *status)
{
	return status && (strcmp(status, "error") == 0 || strcmp(status, "timeout") == 0 ||
	    strcmp(status, "missing") == 0);
}

/* Workflow-command escaping: data gets %, CR, LF; properties also : and ,. */
static void gh_escape(struct buf *b, const char *s, bool property)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '%': buf_addstr(b, "%25"); break;
		case '\r': buf_addstr(b, "%0D"); break;
		case '\n': buf_addstr(b, "%0A"); break;
		case ':': buf_addstr(b, property ? "%3A" : ":"); break;
		case ',': buf_addstr(b, property ? "%2C" : ","); break;
		default: buf_addch(b, *s);
		}
	}
}

enum kind { K_ERROR, K_WARNING, K_NOTICE, NKINDS };
static const char *const kind_cmd[NKINDS] = { "error", "warning", "notice" };

static enum kind kind_of(const char *sev)
{
	if (sev && strcmp(sev, "warning") == 0)
		return K_WARNING;
	if (sev && strcmp(sev, "info") == 0)
		return K_NOTICE;
	return K_ERROR;
}

/* One annotation: a broken gate (f NULL) or a finding of gate g. */
struct note {
	enum kind	 kind;
	size_t		 seq;		/* output order within a kind: stable */
	const cJSON	*g, *f;
};

static int note_cmp(const void *a, const void *b)
{
	const struct note *x = a, *y = b;

	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static void annotate(struct buf *b, const struct note *n)
{
	const cJSON *g = n->g, *f = n->f;
	const char *code;
	int line, end;

	if (f == NULL) {
		const char *gs = report_str(g, "status");

		buf_addstr(b, "::error title=");
		gh_escape(b, report_str(g, "name"), true);
		buf_addf(b, " %s::", gs);
		gh_escape(b, report_str(g, "message") ? report_str(g, "message") : gs, false);
		buf_addch(b, '\n');
		return;
	}
	code = report_str(f, "code");
	line = report_num(f, "line");
	end = report_num(f, "end_line");
	buf_addf(b, "::%s file=", kind_cmd[n->kind]);
	gh_escape(b, report_str(f, "path") ? report_str(f, "path") : "", true);
	if (line > 0) {
		buf_addf(b, ",line=%d", line);
		if (end > 0)
			buf_addf(b, ",endLine=%d", end);
		/* columns only make sense on one line */
		if (report_num(f, "col") > 0 && (end == 0 || end == line)) {
			buf_addf(b, ",col=%d", report_num(f, "col"));
			if (report_num(f, "end_col") > 0)
				buf_addf(b, ",endColumn=%d", report_num(f, "end_col"));
		}
	}
	buf_addstr(b, ",title=");
	gh_escape(b, report_str(g, "name"), true);
	if (code) {
		buf_addstr(b, " (");
		gh_escape(b, code, true);
		buf_addch(b, ')');
	}
	buf_addstr(b, "::");
	gh_escape(b, report_str(f, "message"), false);
	buf_addch(b, '\n');
}

/* A log line inside a group; one starting with "::" would be read as a
 * workflow command, and a newline would start another line. */
static void log_line(struct buf *b, const char *s)
{
	if (strncmp(s, "::", 2) == 0)
		buf_addch(b, ' ');
	for (; *s; s++)
		buf_addch(b, *s == '\n' || *s == '\r' ? ' ' : *s);
	buf_addch(b, '\n');
}

static int count_cached(const cJSON *g)
{
	const cJSON *r;
	int n = 0;

	cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(g, "reasons"))
		if (cJSON_IsString(r) && strstr(r->valuestring, SELECT_CACHED))
			n++;
	if (n == 0 && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(g, "cached")))
		n = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(g, "files"));
	return n;
}

void report_github(const cJSON *run, struct buf *b)
{
	const cJSON *gates = cJSON_GetObjectItemCaseSensitive(run, "gates"), *g, *f;
	size_t nnotes = 0, cap = 0, seq = 0, left = 0;
	struct note *notes;
	int per_kind[NKINDS] = { 0 }, total = 0;

	cJSON_ArrayForEach(g, gates)
		cap += 1 + (size_t)cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(g,
		    "findings"));
	notes = xcalloc(cap ? cap : 1, sizeof(*notes));
	cJSON_ArrayForEach(g, gates) {
		const char *gs = report_str(g, "status");
		struct buf line = BUF_INIT;
		int nfiles = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(g, "files"));
		int cached = count_cached(g);

		buf_addstr(b, "::group::");
		gh_escape(b, report_str(g, "name"), false);
		buf_addf(b, ": %s, %d file(s)", gs ? gs : "?", nfiles);
		if (cached)
			buf_addf(b, ", %d from the cache", cached);
		buf_addch(b, '\n');
		if (broken(gs)) {
			notes[nnotes++] = (struct note){ K_ERROR, seq++, g, NULL };
			if (report_str(g, "message"))
				log_line(b, report_str(g, "message"));
		}
		cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(g, "findings")) {
			const char *code = report_str(f, "code");

			buf_setlen(&line, 0);
			buf_addf(&line, "%s:%d:%d: %s: %s", report_str(f, "path") ? report_str(f, "path") : "-",
			    report_num(f, "line"), report_num(f, "col"), report_str(f, "severity") ? report_str(f, "severity") :
			    "error", report_str(f, "message") ? report_str(f, "message") : "");
			if (code)
				buf_addf(&line, " [%s]", code);
			log_line(b, line.buf);
			notes[nnotes++] = (struct note){ kind_of(report_str(f, "severity")), seq++, g, f };
		}
		buf_release(&line);
		buf_addstr(b, "::endgroup::\n");
	}
	qsort(notes, nnotes, sizeof(*notes), note_cmp);
	for (size_t i = 0; i < nnotes; i++) {
		if (per_kind[notes[i].kind] >= GITHUB_ANNOTATIONS_PER_KIND ||
		    total >= GITHUB_ANNOTATIONS_PER_JOB) {
			left++;
			continue;
		}
		per_kind[notes[i].kind]++;
		total++;
		annotate(b, &notes[i]);
	}
	if (left)
		buf_addf(b, "watchd: %zu more finding(s) not annotated (GitHub shows %d errors, %d "
		    "warnings and %d notices per step): every finding is in the groups above and "
		    "in the job summary\n", left, GITHUB_ANNOTATIONS_PER_KIND,
		    GITHUB_ANNOTATIONS_PER_KIND, GITHUB_ANNOTATIONS_PER_KIND);
	free(notes);
}

/* Markdown table cell: '|' and newlines would break the row, and '<' '&'
 * would be read as HTML. */
static void md_cell(struct buf *b, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '|': buf_addstr(b, "\\|"); break;
		case '\\': buf_addstr(b, "\\\\"); break;
		case '`': buf_addstr(b, "\\`"); break;
		case '*': buf_addstr(b, "\\*"); break;
		case '_': buf_addstr(b, "\\_"); break;
		case '<': buf_addstr(b, "&lt;"); break;
		case '>': buf_addstr(b, "&gt;"); break;
		case '&': buf_addstr(b, "&amp;"); break;
		case '\n': case '\r': buf_addch(b, ' '); break;
		default: buf_addch(b, *s);
		}
	}
}

void report_github_summary(const cJSON *run, const char *repro, struct buf *b)
{
	const cJSON *gates = cJSON_GetObjectItemCaseSensitive(run, "gates"), *g, *f;
	int nfindings = 0, shown = 0;

	/* a blank line first: an earlier step may have left a paragraph open */
	buf_addstr(b, "\n## watchd ci: ");
	md_cell(b, report_str(run, "status") ? report_str(run, "status") : "?");
	buf_addstr(b, "\n\n");
	buf_addstr(b, "| Gate | Status | Files | From the cache | Findings |\n");
	buf_addstr(b, "| --- | --- | ---: | ---: | ---: |\n");
	cJSON_ArrayForEach(g, gates) {
		int nf = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(g, "findings"));

		buf_addstr(b, "| ");
		md_cell(b, report_str(g, "name"));
		buf_addstr(b, " | ");
		md_cell(b, report_str(g, "status"));
		buf_addf(b, " | %d | %d | %d |\n",
		    cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(g, "files")),
		    count_cached(g), nf);
		nfindings += nf;
	}
	if (cJSON_GetArraySize(gates) == 0)
		buf_addstr(b, "| (no file matched any gate) | pass | 0 | 0 | 0 |\n");
	if (nfindings) {
		buf_addf(b, "\n### Findings (%d)\n\n", nfindings);
		buf_addstr(b, "| Severity | Gate | File | Line | Code | Message |\n");
		buf_addstr(b, "| --- | --- | --- | ---: | --- | --- |\n");
	}
	cJSON_ArrayForEach(g, gates) {
		cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(g, "findings")) {
			if (b->len > SUMMARY_BUDGET)
				break;
			buf_addstr(b, "| ");
			md_cell(b, report_str(f, "severity") ? report_str(f, "severity") : "error");
			buf_addstr(b, " | ");
			md_cell(b, report_str(g, "name"));
			buf_addstr(b, " | ");
			md_cell(b, report_str(f, "path") ? report_str(f, "path") : "");
			buf_addf(b, " | %d | ", report_num(f, "line"));
			md_cell(b, report_str(f, "code") ? report_str(f, "code") : "");
			buf_addstr(b, " | ");
			md_cell(b, report_str(f, "message"));
			buf_addstr(b, " |\n");
			shown++;
		}
	}
	if (shown < nfindings)
		buf_addf(b, "\n%d more finding(s) left out: GitHub takes at most 1 MiB of summary "
		    "per step (the JSON and SARIF reports hold them all).\n", nfindings - shown);
	if (repro) {
		buf_addstr(b, "\nReproduce locally:\n\n```sh\n");
		buf_addstr(b, repro);
		buf_addstr(b, "\n```\n");
	}
	buf_addch(b, '\n');
}
