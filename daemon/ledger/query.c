/* Reads: the result-cache lookup the scheduler makes before running a tool,
 * the runs of log, show and export in the `show --json` shape, the gate
 * summary behind status, and the times they print and parse.
 *
 * An answer built from several statements (a run with its gates, files and
 * findings) is read inside one read transaction, ended by ledger__abort, so
 * it is one snapshot even while the daemon writes; every statement is reset
 * before the call returns. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "ledger-internal.h"
#include "lib/xmalloc.h"

#define LOG_DEFAULT_LIMIT	20
#define SUMMARY_MAX_FILES	50
#define SUMMARY_MAX_FINDINGS	20	/* what a terminal shows of a gate in status */

/* ---- cache --------------------------------------------------------------- */

static void read_finding(sqlite3_stmt *s, struct finding *f)
{
	f->path = (char *)col_text(s, 0);
	f->line = sqlite3_column_int(s, 1);
	f->col = sqlite3_column_int(s, 2);
	f->end_line = sqlite3_column_int(s, 3);
	f->end_col = sqlite3_column_int(s, 4);
	f->code = (char *)col_text(s, 5);
	f->severity = (char *)col_text(s, 6);
	f->message = (char *)col_text(s, 7);
	f->url = (char *)col_text(s, 8);
	f->fixable = sqlite3_column_int(s, 9) != 0;
}

/* One row of a cache lookup (ST_CACHE_LOOKUP or ST_STAGE_LOOKUP, which
 * read the same columns): 1 and its fields, 0 none, or an error code. */
static int cache_row(struct ledger *l, enum stmt_id id, const char *gate,
    const char *fingerprint, const char *path, const char *cache_key, int *status,
    int64_t *grid, char run_id[ULID_LEN + 1])
{
	sqlite3_stmt *s = ledger__stmt(l, id, NULL);
	int src;

	if (s == NULL)
		return WD_ELEDGER;
	bind_text(s, 1, gate);
	bind_text(s, 2, fingerprint);
	bind_text(s, 3, path);
	bind_text(s, 4, cache_key);
	src = sqlite3_step(s);
	if (src == SQLITE_ROW) {
		*status = gate_status_parse(col_text(s, 0));
		*grid = sqlite3_column_int64(s, 1);
		snprintf(run_id, ULID_LEN + 1, "%s", col_text(s, 2));
	}
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	if (src == SQLITE_ROW)
		return 1;
	if (src == SQLITE_DONE)
		return 0;
	return (src & 0xff) == SQLITE_FULL ? WD_ELEDGER_FULL : WD_ELEDGER;
}

int ledger_cache_lookup(struct ledger *l, const char *gate, const char *fingerprint,
    const char *path, const char *cache_key, struct ledger_cache_hit *hit)
{
	sqlite3_stmt *fs;
	int64_t grid = 0;
	int rc, st = 0;
	bool own;

	memset(hit, 0, sizeof(*hit));
	if (gate == NULL || fingerprint == NULL || path == NULL || cache_key == NULL)
		return 0;
	if (ledger__keyfilter_miss(l, gate, path, cache_key))
		return 0;	/* never recorded: no query */
	/* inside ledger_read_begin's snapshot, no transaction of its own */
	own = sqlite3_get_autocommit(l->db) != 0;
	if (own && (rc = ledger__begin(l, false, NULL)))
		return rc;
	if ((fs = ledger__stmt(l, ST_CACHE_FINDINGS, NULL)) == NULL) {
		if (own)
			ledger__abort(l);
		return WD_ELEDGER;
	}
	/* the daemon's newest results may still wait in the stage */
	rc = l->staged ? cache_row(l, ST_STAGE_LOOKUP, gate, fingerprint, path, cache_key, &st,
	    &grid, hit->run_id) : 0;
	if (rc == 0)
		rc = cache_row(l, ST_CACHE_LOOKUP, gate, fingerprint, path, cache_key, &st, &grid,
		    hit->run_id);
	if (rc != 1) {
		if (own)
			ledger__abort(l);
		return rc;
	}
	hit->status = st < 0 ? GATE_ERROR : (enum gate_status)st;

	sqlite3_bind_int64(fs, 1, grid);
	bind_text(fs, 2, path);
	while ((rc = sqlite3_step(fs)) == SQLITE_ROW) {
		struct finding f;

		read_finding(fs, &f);
		findings_add(&hit->findings, &f);
	}
	sqlite3_reset(fs);
	sqlite3_clear_bindings(fs);
	if (own)
		ledger__abort(l);	/* ends the read transaction */
	if (rc != SQLITE_DONE) {
		findings_release(&hit->findings);
		return WD_ELEDGER;
	}
	return 1;
}

int ledger_read_begin(struct ledger *l)
{
	return sqlite3_get_autocommit(l->db) ? ledger__begin(l, false, NULL) : 0;
}

void ledger_read_end(struct ledger *l)
{
	ledger__abort(l);
}

/* ---- JSON ---------------------------------------------------------------- */

static cJSON *json_str_or_null(const char *s)
{
	return s ? cJSON_CreateString(s) : cJSON_CreateNull();
}

static cJSON *json_time_or_null(sqlite3_stmt *s, int i)
{
	char iso[32];

	if (sqlite3_column_type(s, i) == SQLITE_NULL)
		return cJSON_CreateNull();
	ledger_time_iso(sqlite3_column_int64(s, i), iso);
	return cJSON_CreateString(iso);
}

static cJSON *json_int_or_null(sqlite3_stmt *s, int i)
{
	if (sqlite3_column_type(s, i) == SQLITE_NULL)
		return cJSON_CreateNull();
	return cJSON_CreateNumber((double)sqlite3_column_int64(s, i));
}

static cJSON *text_json(sqlite3_stmt *s)
{
	return cJSON_CreateString(col_text(s, 0));
}

static cJSON *finding_json(sqlite3_stmt *s)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddItemToObject(o, "path", json_str_or_null(col_text(s, 0)));
	cJSON_AddNumberToObject(o, "line", sqlite3_column_int(s, 1));
	cJSON_AddNumberToObject(o, "col", sqlite3_column_int(s, 2));
	cJSON_AddNumberToObject(o, "end_line", sqlite3_column_int(s, 3));
	cJSON_AddNumberToObject(o, "end_col", sqlite3_column_int(s, 4));
	cJSON_AddItemToObject(o, "code", json_str_or_null(col_text(s, 5)));
	cJSON_AddStringToObject(o, "severity", col_text(s, 6));
	cJSON_AddStringToObject(o, "message", col_text(s, 7));
	cJSON_AddItemToObject(o, "url", json_str_or_null(col_text(s, 8)));
	cJSON_AddBoolToObject(o, "fixable", sqlite3_column_int(s, 9) != 0);
	return o;
}

/* Steps s (bound) to the end, appending what row() makes of each row to
 * arr; resets s. 0 or a db_fail code. */
static int rows_json(struct ledger *l, sqlite3_stmt *s, cJSON *arr,
    cJSON *(*row)(sqlite3_stmt *), struct wd_err *err)
{
	int rc;

	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		cJSON_AddItemToArray(arr, row(s));
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return rc == SQLITE_DONE ? 0 : ledger__fail(l, rc, "cannot read", err);
}

/* A gate run's file and why it ran (NULL: no reason recorded). */
struct gfile {
	char		*path;
	char		*reason;
};

static int gfile_cmp(const void *a, const void *b)
{
	return strcmp(((const struct gfile *)a)->path, ((const struct gfile *)b)->path);
}

/* The records of one gate_file_parts row appended to *v: four NUL-ended
 * fields each (the row's last NUL left off), path and reason kept. */
static void split_part(const char *p, size_t len, struct gfile **v, size_t *n, size_t *cap)
{
	size_t at = 0;

	while (at < len) {
		size_t field[4];	/* where each field starts */
		int k;

		for (k = 0; k < 4 && at <= len; k++) {
			const char *z = memchr(p + at, '\0', len - at);

			field[k] = at;
			at = z ? (size_t)(z - p) + 1 : len + 1;
		}
		if (k < 4)
			break;		/* a torn record: what came before stands */
		*v = xgrow(*v, cap, *n + 1, sizeof(**v));
		(*v)[*n].path = xstrndup(p + field[0], field[1] - field[0] - 1);
		(*v)[*n].reason = field[3] - field[2] > 1 ?
		    xstrndup(p + field[2], field[3] - field[2] - 1) : NULL;
		++*n;
	}
}

static int files_json(struct ledger *l, int64_t grid, cJSON *gate, struct wd_err *err)
{
	sqlite3_stmt *s = ledger__stmt(l, ST_FILES, err);
	struct gfile *v = NULL;		/* owned, with its strings */
	size_t n = 0, cap = 0;
	cJSON *files, *reasons;
	int rc;

	if (s == NULL)
		return err ? err->code : WD_ELEDGER;
	sqlite3_bind_int64(s, 1, grid);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		split_part(sqlite3_column_blob(s, 0), (size_t)sqlite3_column_bytes(s, 0), &v, &n,
		    &cap);
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	/* in path order, as show lists them; a path given twice once */
	if (n > 1)
		qsort(v, n, sizeof(*v), gfile_cmp);
	files = cJSON_AddArrayToObject(gate, "files");
	reasons = cJSON_CreateObject();
	for (size_t i = 0; i < n; i++) {
		if (i > 0 && strcmp(v[i].path, v[i - 1].path) == 0)
			continue;
		cJSON_AddItemToArray(files, cJSON_CreateString(v[i].path));
		if (v[i].reason)
			cJSON_AddStringToObject(reasons, v[i].path, v[i].reason);
	}
	for (size_t i = 0; i < n; i++) {
		free(v[i].path);
		free(v[i].reason);
	}
	free(v);
	if (reasons->child)
		cJSON_AddItemToObject(gate, "reasons", reasons);
	else
		cJSON_Delete(reasons);
	return rc == SQLITE_DONE ? 0 : ledger__fail(l, rc, "cannot read", err);
}

#define RUN_JSON_FINDINGS	0x1
#define RUN_JSON_OUTPUT		0x2

/* The gates of one run, appended to run["gates"]. */
static int gates_json(struct ledger *l, const char *run_id, cJSON *run, unsigned flags,
    struct wd_err *err)
{
	sqlite3_stmt *s = ledger__stmt(l, ST_GATES, err), *fs = NULL;
	cJSON *gates = cJSON_AddArrayToObject(run, "gates");
	int rc = 0, src;

	if (s == NULL ||
	    ((flags & RUN_JSON_FINDINGS) && (fs = ledger__stmt(l, ST_FINDINGS, err)) == NULL))
		return err ? err->code : WD_ELEDGER;
	bind_text(s, 1, run_id);
	while ((src = sqlite3_step(s)) == SQLITE_ROW) {
		cJSON *g = cJSON_CreateObject();
		int64_t grid = sqlite3_column_int64(s, 0);

		cJSON_AddItemToArray(gates, g);
		cJSON_AddStringToObject(g, "name", col_text(s, 1));
		cJSON_AddStringToObject(g, "status", col_text(s, 3));
		cJSON_AddBoolToObject(g, "cached", sqlite3_column_int(s, 4) != 0);
		if (sqlite3_column_type(s, 5) != SQLITE_NULL)
			cJSON_AddStringToObject(g, "cached_from", col_text(s, 5));
		cJSON_AddItemToObject(g, "exit_code", json_int_or_null(s, 6));
		cJSON_AddItemToObject(g, "started_at", json_time_or_null(s, 7));
		cJSON_AddNumberToObject(g, "duration_ms", (double)sqlite3_column_int64(s, 8));
		cJSON_AddItemToObject(g, "fingerprint", json_str_or_null(col_text(s, 2)));
		if (sqlite3_column_type(s, 9) != SQLITE_NULL)
			cJSON_AddStringToObject(g, "message", col_text(s, 9));
		if ((flags & RUN_JSON_OUTPUT) && sqlite3_column_type(s, 10) != SQLITE_NULL)
			cJSON_AddStringToObject(g, "output", col_text(s, 10));
		if (sqlite3_column_type(s, 11) != SQLITE_NULL) {
			cJSON *t = cJSON_AddObjectToObject(g, "tests");

			cJSON_AddItemToObject(t, "total", json_int_or_null(s, 11));
			cJSON_AddItemToObject(t, "passed", json_int_or_null(s, 12));
			cJSON_AddItemToObject(t, "failed", json_int_or_null(s, 13));
			cJSON_AddItemToObject(t, "skipped", json_int_or_null(s, 14));
		}
		if (sqlite3_column_type(s, 15) != SQLITE_NULL)
			cJSON_AddStringToObject(g, "input_digest", col_text(s, 15));
		if (sqlite3_column_type(s, 16) != SQLITE_NULL) {
			cJSON_AddStringToObject(g, "remote", col_text(s, 16));
			cJSON_AddNumberToObject(g, "remote_hits", sqlite3_column_int(s, 17));
		}
		if ((rc = files_json(l, grid, g, err)))
			break;
		if (fs) {
			sqlite3_bind_int64(fs, 1, grid);
			if ((rc = rows_json(l, fs, cJSON_AddArrayToObject(g, "findings"),
			    finding_json, err)))
				break;
		}
	}
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	if (rc)
		return rc;
	return src == SQLITE_DONE ? 0 : ledger__fail(l, src, "cannot read", err);
}

/* The run on the current row of s (RUN_COLS), with its gates. */
static int run_json(struct ledger *l, sqlite3_stmt *s, unsigned flags, cJSON **out,
    struct wd_err *err)
{
	cJSON *o = cJSON_CreateObject();
	int rc;

	cJSON_AddStringToObject(o, "id", col_text(s, 0));
	cJSON_AddStringToObject(o, "trigger", col_text(s, 1));
	cJSON_AddStringToObject(o, "status", col_text(s, 2));
	cJSON_AddItemToObject(o, "started_at", json_time_or_null(s, 3));
	cJSON_AddItemToObject(o, "finished_at", json_time_or_null(s, 4));
	if (sqlite3_column_type(s, 4) == SQLITE_NULL)
		cJSON_AddNullToObject(o, "duration_ms");
	else
		cJSON_AddNumberToObject(o, "duration_ms", (double)(sqlite3_column_int64(s, 4) -
		    sqlite3_column_int64(s, 3)));
	cJSON_AddItemToObject(o, "git_head", json_str_or_null(col_text(s, 5)));
	cJSON_AddItemToObject(o, "config_hash", json_str_or_null(col_text(s, 6)));
	if ((rc = gates_json(l, col_text(s, 0), o, flags, err))) {
		cJSON_Delete(o);
		return rc;
	}
	*out = o;
	return 0;
}

/* ---- queries ------------------------------------------------------------- */

int ledger_log(struct ledger *l, const struct ledger_log_query *q, cJSON **out,
    struct wd_err *err)
{
	sqlite3_stmt *s;
	cJSON *arr;
	int rc, src;

	char floor_id[ULID_LEN + 1] = "";

	*out = NULL;
	if ((rc = ledger__begin(l, false, err)))
		return rc;
	if ((s = ledger__stmt(l, q->gate ? ST_LOG_GATE : q->status ? ST_LOG_STATUS : ST_LOG,
	    err)) == NULL) {
		ledger__abort(l);
		return err ? err->code : WD_ELEDGER;
	}
	/* the smallest ULID of the --since millisecond: its time part, then
	 * the lowest randomness */
	if (q->since_ms > 0) {
		ulid_at(floor_id, (uint64_t)q->since_ms);
		memset(floor_id + 10, '0', ULID_LEN - 10);
	}
	sqlite3_bind_int64(s, 1, q->since_ms > 0 ? q->since_ms : INT64_MIN);
	bind_text(s, 2, q->status);
	bind_text(s, 3, q->gate);
	sqlite3_bind_int(s, 4, q->limit > 0 ? q->limit : LOG_DEFAULT_LIMIT);
	if (q->gate)
		bind_text(s, 5, floor_id);
	arr = cJSON_CreateArray();
	while ((src = sqlite3_step(s)) == SQLITE_ROW) {
		cJSON *run;

		if ((rc = run_json(l, s, q->findings ? RUN_JSON_FINDINGS : 0, &run, err)))
			break;
		cJSON_AddItemToArray(arr, run);
	}
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	if (rc == 0 && src != SQLITE_DONE)
		rc = ledger__fail(l, src, "cannot list runs", err);
	ledger__abort(l);
	if (rc) {
		cJSON_Delete(arr);
		return rc;
	}
	*out = arr;
	return 0;
}

int ledger_show(struct ledger *l, const char *id, cJSON **out, struct wd_err *err)
{
	char lo[ULID_LEN + 1], hi[ULID_LEN + 2], first[ULID_LEN + 1] = "";
	size_t n = id ? strlen(id) : 0;
	sqlite3_stmt *s;
	int rc = 0, src, found = 0;

	*out = NULL;
	if (n == 0 || n > ULID_LEN)
		return wd_err_set(err, WD_ENOTFOUND, "no run '%s'", id ? id : "");
	for (size_t i = 0; i < n; i++) {
		if (!isalnum((unsigned char)id[i]))
			return wd_err_set(err, WD_ENOTFOUND, "no run '%s'", id);
		lo[i] = (char)toupper((unsigned char)id[i]);
	}
	lo[n] = '\0';
	/* every id starting with lo sorts in [lo, lo "~"): ids are [0-9A-Z] */
	snprintf(hi, sizeof(hi), "%s~", lo);
	if ((rc = ledger__begin(l, false, err)))
		return rc;
	if ((s = ledger__stmt(l, ST_SHOW, err)) == NULL) {
		ledger__abort(l);
		return err ? err->code : WD_ELEDGER;
	}
	bind_text(s, 1, lo);
	bind_text(s, 2, hi);
	while ((src = sqlite3_step(s)) == SQLITE_ROW) {
		if (++found == 1) {
			snprintf(first, sizeof(first), "%s", col_text(s, 0));
			if ((rc = run_json(l, s, RUN_JSON_FINDINGS | RUN_JSON_OUTPUT, out, err)))
				break;
		} else {
			rc = wd_err_set(err, WD_EAMBIGUOUS, "run id prefix '%s' is ambiguous: "
			    "%s, %s, ...", id, first, col_text(s, 0));
			break;
		}
	}
	if (rc == 0 && src != SQLITE_DONE && src != SQLITE_ROW)
		rc = ledger__fail(l, src, "cannot read the run", err);
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	ledger__abort(l);
	if (rc == 0 && found == 0)
		rc = wd_err_set(err, WD_ENOTFOUND, "no run '%s'", id);
	if (rc) {
		cJSON_Delete(*out);
		*out = NULL;
	}
	return rc;
}

int ledger_last_run(struct ledger *l, cJSON **out, struct wd_err *err)
{
	sqlite3_stmt *s;
	int rc;

	*out = NULL;
	if ((s = ledger__stmt(l, ST_LAST_RUN, err)) == NULL)
		return err ? err->code : WD_ELEDGER;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*out = cJSON_CreateObject();
		cJSON_AddStringToObject(*out, "id", col_text(s, 0));
		cJSON_AddStringToObject(*out, "status", col_text(s, 1));
		cJSON_AddItemToObject(*out, "finished_at", json_time_or_null(s, 2));
		rc = SQLITE_DONE;
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		return ledger__fail(l, rc, "cannot read the last run", err);
	if (*out == NULL)
		*out = cJSON_CreateNull();
	return 0;
}

/* ledger_gate_summary, or with brief the part of it ledger_gate_brief
 * gives. */
static int gate_summary(struct ledger *l, bool brief, cJSON **out, struct wd_err *err)
{
	sqlite3_stmt *s, *fs, *ps, *xs, *rs;
	cJSON *arr;
	int rc = 0, src;

	*out = NULL;
	if ((rc = ledger__begin(l, false, err)))
		return rc;
	if ((s = ledger__stmt(l, brief ? ST_SUMMARY_BRIEF : ST_SUMMARY, err)) == NULL ||
	    (fs = ledger__stmt(l, ST_SUMMARY_FILES, err)) == NULL ||
	    (ps = ledger__stmt(l, ST_SUMMARY_PROBLEM, err)) == NULL ||
	    (xs = ledger__stmt(l, ST_SUMMARY_FINDINGS, err)) == NULL ||
	    (rs = ledger__stmt(l, ST_SUMMARY_RUN, err)) == NULL) {
		ledger__abort(l);
		return err ? err->code : WD_ELEDGER;
	}
	arr = cJSON_CreateArray();
	while ((src = sqlite3_step(s)) == SQLITE_ROW) {
		cJSON *g = cJSON_CreateObject();
		int64_t failing = sqlite3_column_int64(s, 2), errors = sqlite3_column_int64(s, 3);
		char problem[16] = "", *message = NULL;

		if (errors) {
			bind_text(ps, 1, col_text(s, 0));
			if (sqlite3_step(ps) == SQLITE_ROW) {
				snprintf(problem, sizeof(problem), "%s", col_text(ps, 0));
				if (sqlite3_column_type(ps, 1) != SQLITE_NULL)
					message = xstrdup(col_text(ps, 1));
			}
			sqlite3_reset(ps);
			sqlite3_clear_bindings(ps);
		}
		cJSON_AddItemToArray(arr, g);
		cJSON_AddStringToObject(g, "name", col_text(s, 0));
		/* failing files are the gate's verdict; otherwise a gate that
		 * could not judge says why (missing, timeout, error) */
		cJSON_AddStringToObject(g, "status", failing ? "fail" : problem[0] ? problem :
		    errors ? "error" : "pass");
		if (problem[0]) {
			cJSON_AddStringToObject(g, "problem", problem);
			if (message)
				cJSON_AddStringToObject(g, "message", message);
		}
		free(message);
		cJSON_AddNumberToObject(g, "failing_files", (double)failing);
		cJSON_AddNumberToObject(g, "findings", (double)sqlite3_column_int64(s, 4));
		cJSON_AddNumberToObject(g, "error_files", (double)errors);
		if (brief)
			continue;
		cJSON_AddNumberToObject(g, "checked_files", (double)sqlite3_column_int64(s, 1));
		bind_text(fs, 1, col_text(s, 0));
		sqlite3_bind_int(fs, 2, SUMMARY_MAX_FILES);
		if ((rc = rows_json(l, fs, cJSON_AddArrayToObject(g, "files"), text_json,
		    err)))
			break;
		if (!failing)
			continue;
		bind_text(xs, 1, col_text(s, 0));
		sqlite3_bind_int(xs, 2, SUMMARY_MAX_FINDINGS);
		if ((rc = rows_json(l, xs, cJSON_AddArrayToObject(g, "first_findings"),
		    finding_json, err)))
			break;
		bind_text(rs, 1, col_text(s, 0));
		if (sqlite3_step(rs) == SQLITE_ROW)
			cJSON_AddStringToObject(g, "findings_run", col_text(rs, 0));
		sqlite3_reset(rs);
		sqlite3_clear_bindings(rs);
	}
	sqlite3_reset(s);
	if (rc == 0 && src != SQLITE_DONE)
		rc = ledger__fail(l, src, "cannot summarise gates", err);
	ledger__abort(l);
	if (rc) {
		cJSON_Delete(arr);
		return rc;
	}
	*out = arr;
	return 0;
}

int ledger_gate_summary(struct ledger *l, cJSON **out, struct wd_err *err)
{
	return gate_summary(l, false, out, err);
}

int ledger_gate_brief(struct ledger *l, cJSON **out, struct wd_err *err)
{
	return gate_summary(l, true, out, err);
}

int ledger_export(struct ledger *l, int64_t since_ms, FILE *out, struct wd_err *err)
{
	sqlite3_stmt *s;
	int rc = 0, src;

	if ((rc = ledger__begin(l, false, err)))
		return rc;
	if ((s = ledger__stmt(l, ST_EXPORT, err)) == NULL) {
		ledger__abort(l);
		return err ? err->code : WD_ELEDGER;
	}
	sqlite3_bind_int64(s, 1, since_ms > 0 ? since_ms : INT64_MIN);
	while ((src = sqlite3_step(s)) == SQLITE_ROW) {
		cJSON *run;
		char *text;

		if ((rc = run_json(l, s, RUN_JSON_FINDINGS | RUN_JSON_OUTPUT, &run, err)))
			break;
		text = cJSON_PrintUnformatted(run);
		cJSON_Delete(run);
		if (text == NULL || fputs(text, out) == EOF || fputc('\n', out) == EOF) {
			rc = wd_err_set(err, WD_ELEDGER, "cannot write the export: %s",
			    text ? strerror(errno) : "out of memory");
			cJSON_free(text);
			break;
		}
		cJSON_free(text);
	}
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	if (rc == 0 && src != SQLITE_DONE)
		rc = ledger__fail(l, src, "cannot export runs", err);
	ledger__abort(l);
	if (rc == 0 && fflush(out) == EOF)
		rc = wd_err_set(err, WD_ELEDGER, "cannot write the export: %s", strerror(errno));
	return rc;
}

/* ---- time ---------------------------------------------------------------- */

void ledger_time_iso(int64_t ms, char out[32])
{
	int64_t sec = ms / 1000, frac = ms % 1000;
	struct tm tm;
	time_t t;

	if (frac < 0) {
		frac += 1000;
		sec--;
	}
	t = (time_t)sec;
	if (gmtime_r(&t, &tm) == NULL) {
		snprintf(out, 32, "1970-01-01T00:00:00.000Z");
		return;
	}
	snprintf(out, 32, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
	    tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)frac);
}

/* Reads exactly n digits at *p into *v. */
static bool digits(const char **p, int n, int *v)
{
	*v = 0;
	for (int i = 0; i < n; i++, (*p)++) {
		if (!isdigit((unsigned char)**p))
			return false;
		*v = *v * 10 + (**p - '0');
	}
	return true;
}

static int parse_relative(const char *s, int64_t *ms)
{
	static const struct { char unit; int64_t ms; } units[] = {
		{ 's', 1000 }, { 'm', 60000 }, { 'h', 3600000 }, { 'd', 86400000 },
		{ 'w', 7 * 86400000LL },
	};
	char *end;
	long long n;

	if (!isdigit((unsigned char)s[0]))
		return -1;
	errno = 0;
	n = strtoll(s, &end, 10);
	if (errno || end[0] == '\0' || end[1] != '\0')
		return -1;
	for (size_t i = 0; i < sizeof(units) / sizeof(*units); i++) {
		if (units[i].unit == end[0]) {
			if (n > INT64_MAX / units[i].ms / 2)
				return -1;
			*ms = now_ms() - n * units[i].ms;
			return 0;
		}
	}
	return -1;
}

int ledger_time_parse(const char *s, int64_t *ms)
{
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	const char *p = s;
	struct tm tm;
	int y, mo, d, h = 0, mi = 0, sec = 0, frac = 0, off = 0;
	time_t t;

	if (s == NULL || *s == '\0')
		return -1;
	if (parse_relative(s, ms) == 0)
		return 0;
	if (!digits(&p, 4, &y) || *p++ != '-' || !digits(&p, 2, &mo) || *p++ != '-' ||
	    !digits(&p, 2, &d))
		return -1;
	if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1])
		return -1;
	if (*p == 'T' || *p == 't' || *p == ' ') {
		p++;
		if (!digits(&p, 2, &h) || *p++ != ':' || !digits(&p, 2, &mi))
			return -1;
		if (*p == ':') {
			p++;
			if (!digits(&p, 2, &sec))
				return -1;
			if (*p == '.' || *p == ',') {
				int scale = 100;

				p++;
				if (!isdigit((unsigned char)*p))
					return -1;
				for (; isdigit((unsigned char)*p); p++, scale /= 10)
					frac += (*p - '0') * scale;
			}
		}
		if (h > 23 || mi > 59 || sec > 60)
			return -1;
		if (*p == 'Z' || *p == 'z') {
			p++;
		} else if (*p == '+' || *p == '-') {
			int sign = *p++ == '-' ? -1 : 1, oh, om;

			if (!digits(&p, 2, &oh))
				return -1;
			if (*p == ':')
				p++;
			if (!digits(&p, 2, &om) || oh > 23 || om > 59)
				return -1;
			off = sign * (oh * 60 + om);
		}
	}
	if (*p != '\0')
		return -1;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	t = timegm(&tm);
	if (tm.tm_mday != d)	/* 29 February outside a leap year */
		return -1;
	*ms = ((int64_t)t - (int64_t)off * 60) * 1000 + frac;
	return 0;
}
