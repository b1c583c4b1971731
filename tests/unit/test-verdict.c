/* The scheduler's verdict logic, without a loop or a process: attribution,
 * per-file verdicts, bisection, merging, the gate's final status and what
 * may be cached. */
#include "daemon/run/verdict.h"
#include "lib/xmalloc.h"
#include "test.h"

#define NONE (-1)

static void add(struct gate_result *r, const char *path, const char *severity)
{
	struct finding f;

	memset(&f, 0, sizeof(f));
	f.path = (char *)path;
	f.line = 1;
	f.severity = (char *)severity;
	f.message = (char *)"m";
	findings_add(&r->findings, &f);
}

static struct gate_result result(enum gate_status st)
{
	struct gate_result r = GATE_RESULT_INIT;

	r.status = st;
	return r;
}

/* A task's files (sorted) and a fresh verdict array, every file without
 * a verdict of its own. */
static void task_files(struct strvec *all, signed char *verdict, const char *const *paths)
{
	size_t n = 0;

	for (; paths[n]; n++)
		strvec_push(all, paths[n]);
	strvec_sort(all);
	memset(verdict, NONE, n);
}

TEST_IMPL(verdict_rank_worst_wins)
{
	ASSERT(verdict_rank(GATE_PASS) < verdict_rank(GATE_SKIPPED));
	ASSERT(verdict_rank(GATE_SKIPPED) < verdict_rank(GATE_FAIL));
	ASSERT(verdict_rank(GATE_FAIL) < verdict_rank(GATE_ERROR));
	ASSERT(verdict_rank(GATE_ERROR) < verdict_rank(GATE_TIMEOUT));
	ASSERT(verdict_rank(GATE_TIMEOUT) < verdict_rank(GATE_MISSING));
	/* a status from a newer ledger, say: an error, not a pass */
	ASSERT_EQ(verdict_rank((enum gate_status)42), verdict_rank(GATE_ERROR));
	return 0;
}

TEST_IMPL(verdict_attributable_names_every_finding)
{
	const char *chunk[] = { "a.sh", "b.sh", "c.sh" };
	struct gate_result r = result(GATE_FAIL);

	/* no findings: nothing to attribute (the exit parser) */
	ASSERT(!verdict_attributable(chunk, 3, &r));
	add(&r, "b.sh", "error");
	add(&r, "a.sh", "warning");
	add(&r, "b.sh", "info");
	ASSERT(verdict_attributable(chunk, 3, &r));
	/* one finding outside the chunk spoils the lot */
	add(&r, "elsewhere.sh", "error");
	ASSERT(!verdict_attributable(chunk, 3, &r));
	gate_result_release(&r);

	/* a finding with no path (an unreadable line) names no file */
	r = result(GATE_FAIL);
	add(&r, "a.sh", "error");
	add(&r, NULL, "error");
	ASSERT(!verdict_attributable(chunk, 3, &r));
	gate_result_release(&r);

	/* a chunk of one file, and an empty one */
	r = result(GATE_FAIL);
	add(&r, "c.sh", "error");
	ASSERT(verdict_attributable(chunk + 2, 1, &r));
	ASSERT(!verdict_attributable(chunk, 1, &r));
	ASSERT(!verdict_attributable(chunk, 0, &r));
	gate_result_release(&r);
	return 0;
}

TEST_IMPL(verdict_chunk_pass_covers_its_files)
{
	static const char *const paths[] = { "d.sh", "a.sh", "c.sh", "b.sh", NULL };
	const char *chunk[] = { "b.sh", "c.sh" };	/* a slice: a.sh, d.sh elsewhere */
	struct strvec all = STRVEC_INIT;
	signed char v[4];
	struct gate_result r = result(GATE_PASS);

	task_files(&all, v, paths);
	/* findings on a pass (notes) change nothing */
	add(&r, "b.sh", "info");
	verdict_chunk(&r, chunk, 2, GATE_BATCH_FILES, &all, v);
	ASSERT_EQ(v[0], NONE);
	ASSERT_EQ(v[1], GATE_PASS);
	ASSERT_EQ(v[2], GATE_PASS);
	ASSERT_EQ(v[3], NONE);
	gate_result_release(&r);
	strvec_clear(&all);
	return 0;
}

TEST_IMPL(verdict_chunk_pins_failure_on_named_files)
{
	static const char *const paths[] = { "a.sh", "b.sh", "c.sh", "d.sh", NULL };
	const char *chunk[] = { "a.sh", "b.sh", "c.sh", "d.sh" };
	struct strvec all = STRVEC_INIT;
	signed char v[4];
	struct gate_result r = result(GATE_FAIL);

	task_files(&all, v, paths);
	/* a warning or an error names its file; a note beside them does not */
	add(&r, "b.sh", "warning");
	add(&r, "d.sh", "error");
	add(&r, "c.sh", "info");
	verdict_chunk(&r, chunk, 4, GATE_BATCH_FILES, &all, v);
	ASSERT_EQ(v[0], GATE_PASS);
	ASSERT_EQ(v[1], GATE_FAIL);
	ASSERT_EQ(v[2], GATE_PASS);
	ASSERT_EQ(v[3], GATE_FAIL);
	gate_result_release(&r);

	/* notes alone fail the gate (shellcheck): then any finding names */
	memset(v, NONE, sizeof(v));
	r = result(GATE_FAIL);
	add(&r, "c.sh", "info");
	verdict_chunk(&r, chunk, 4, GATE_BATCH_FILES, &all, v);
	ASSERT_EQ(v[0], GATE_PASS);
	ASSERT_EQ(v[1], GATE_PASS);
	ASSERT_EQ(v[2], GATE_FAIL);
	ASSERT_EQ(v[3], GATE_PASS);
	gate_result_release(&r);
	strvec_clear(&all);
	return 0;
}

/* A failure that names a file outside the chunk, or none, judges nobody:
 * the gate's status stands for every file. */
TEST_IMPL(verdict_chunk_unattributed_failure_judges_none)
{
	static const char *const paths[] = { "a.sh", "b.sh", "c.sh", NULL };
	const char *chunk[] = { "a.sh", "b.sh" };
	struct strvec all = STRVEC_INIT;
	signed char v[3];
	struct gate_result r = result(GATE_FAIL);

	task_files(&all, v, paths);
	verdict_chunk(&r, chunk, 2, GATE_BATCH_FILES, &all, v);	/* exit status only */
	ASSERT_EQ(v[0], NONE);
	ASSERT_EQ(v[1], NONE);
	add(&r, "a.sh", "error");
	add(&r, "c.sh", "error");	/* in the task, not in this chunk */
	verdict_chunk(&r, chunk, 2, GATE_BATCH_FILES, &all, v);
	ASSERT_EQ(v[0], NONE);
	ASSERT_EQ(v[1], NONE);
	ASSERT_EQ(v[2], NONE);
	gate_result_release(&r);
	strvec_clear(&all);
	return 0;
}

/* A chunk of one file fails that file, whatever its findings name; but an
 * error or a timeout is the tool's, not the file's. */
TEST_IMPL(verdict_chunk_of_one_file)
{
	static const char *const paths[] = { "a.sh", "b.sh", NULL };
	const char *chunk[] = { "b.sh" };
	struct strvec all = STRVEC_INIT;
	signed char v[2];
	struct gate_result r = result(GATE_FAIL);
	static const enum gate_status broken[] = { GATE_ERROR, GATE_TIMEOUT, GATE_MISSING,
	    GATE_SKIPPED };

	task_files(&all, v, paths);
	verdict_chunk(&r, chunk, 1, GATE_BATCH_FILES, &all, v);
	ASSERT_EQ(v[0], NONE);
	ASSERT_EQ(v[1], GATE_FAIL);
	memset(v, NONE, sizeof(v));
	add(&r, "a.sh", "error");	/* a file it was not given (an import) */
	add(&r, NULL, "error");
	verdict_chunk(&r, chunk, 1, GATE_BATCH_ONE, &all, v);
	ASSERT_EQ(v[0], NONE);
	ASSERT_EQ(v[1], GATE_FAIL);
	gate_result_release(&r);
	for (size_t i = 0; i < sizeof(broken) / sizeof(broken[0]); i++) {
		memset(v, NONE, sizeof(v));
		r = result(broken[i]);
		add(&r, "b.sh", "error");
		verdict_chunk(&r, chunk, 1, GATE_BATCH_FILES, &all, v);
		ASSERT_EQ(v[1], NONE);
		gate_result_release(&r);
	}
	strvec_clear(&all);
	return 0;
}

/* A task runner (no file names in its argv) judges the tree: its pass
 * clears every file, its failure blames none unless a finding names it,
 * even when the tree is one file. */
TEST_IMPL(verdict_chunk_task_runner)
{
	static const char *const paths[] = { "a.py", "b.py", NULL };
	const char *chunk[] = { "a.py", "b.py" };
	struct strvec all = STRVEC_INIT;
	signed char v[2];
	struct gate_result r = result(GATE_PASS);

	task_files(&all, v, paths);
	verdict_chunk(&r, chunk, 2, GATE_BATCH_NONE, &all, v);
	ASSERT_EQ(v[0], GATE_PASS);
	ASSERT_EQ(v[1], GATE_PASS);
	gate_result_release(&r);

	memset(v, NONE, sizeof(v));
	r = result(GATE_FAIL);
	verdict_chunk(&r, chunk, 2, GATE_BATCH_NONE, &all, v);
	ASSERT_EQ(v[0], NONE);
	ASSERT_EQ(v[1], NONE);
	verdict_chunk(&r, chunk, 1, GATE_BATCH_NONE, &all, v);	/* a tree of one */
	ASSERT_EQ(v[0], NONE);
	ASSERT(!verdict_bisect(&r, chunk, 2, GATE_BATCH_NONE));
	/* its findings still name files */
	add(&r, "b.py", "error");
	verdict_chunk(&r, chunk, 2, GATE_BATCH_NONE, &all, v);
	ASSERT_EQ(v[0], GATE_PASS);
	ASSERT_EQ(v[1], GATE_FAIL);
	gate_result_release(&r);
	strvec_clear(&all);
	return 0;
}

/* A chunk file the task does not hold is skipped: verdict is written only
 * within the task's files (ASan would see a write before or past it). */
TEST_IMPL(verdict_chunk_file_not_in_task)
{
	static const char *const paths[] = { "b.sh", NULL };
	const char *chunk[] = { "a.sh", "b.sh", "c.sh" };
	struct strvec all = STRVEC_INIT;
	signed char *v = xmalloc(1);
	struct gate_result r = result(GATE_PASS);

	task_files(&all, v, paths);
	verdict_chunk(&r, chunk, 3, GATE_BATCH_FILES, &all, v);
	ASSERT_EQ(v[0], GATE_PASS);
	free(v);
	strvec_clear(&all);
	return 0;
}

TEST_IMPL(verdict_bisect_decision)
{
	const char *chunk[] = { "a.sh", "b.sh", "c.sh" };
	struct gate_result r = result(GATE_FAIL);

	/* failed together, nobody named: split */
	ASSERT(verdict_bisect(&r, chunk, 3, GATE_BATCH_FILES));
	ASSERT(verdict_bisect(&r, chunk, 2, GATE_BATCH_FILES));
	/* one file is its own verdict; {file} gates run one file anyway; a
	 * task runner is given no files to split */
	ASSERT(!verdict_bisect(&r, chunk, 1, GATE_BATCH_FILES));
	ASSERT(!verdict_bisect(&r, chunk, 1, GATE_BATCH_ONE));
	ASSERT(!verdict_bisect(&r, chunk, 3, GATE_BATCH_NONE));
	/* a finding outside the chunk names none of its files: split */
	add(&r, "elsewhere.sh", "error");
	ASSERT(verdict_bisect(&r, chunk, 3, GATE_BATCH_FILES));
	gate_result_release(&r);
	/* findings naming its files: no need */
	r = result(GATE_FAIL);
	add(&r, "b.sh", "error");
	ASSERT(!verdict_bisect(&r, chunk, 3, GATE_BATCH_FILES));
	gate_result_release(&r);
	/* anything but a failure is not the files' doing */
	r = result(GATE_PASS);
	ASSERT(!verdict_bisect(&r, chunk, 3, GATE_BATCH_FILES));
	r.status = GATE_ERROR;
	ASSERT(!verdict_bisect(&r, chunk, 3, GATE_BATCH_FILES));
	r.status = GATE_TIMEOUT;
	ASSERT(!verdict_bisect(&r, chunk, 3, GATE_BATCH_FILES));
	return 0;
}

/* One bisection played out: four files fail together with no names; the
 * halves say which. */
TEST_IMPL(verdict_bisect_halves)
{
	static const char *const paths[] = { "a.sh", "b.sh", "c.sh", "d.sh", NULL };
	struct strvec all = STRVEC_INIT;
	signed char v[4];
	struct gate_result agg = GATE_RESULT_INIT, r = result(GATE_FAIL);
	const char *const *files;

	task_files(&all, v, paths);
	files = (const char *const *)all.v;
	ASSERT(verdict_bisect(&r, files, 4, GATE_BATCH_FILES));
	gate_result_release(&r);
	/* first half passes, second fails, still unnamed: split again */
	r = result(GATE_PASS);
	verdict_chunk(&r, files, 2, GATE_BATCH_FILES, &all, v);
	verdict_merge(&agg, &r);
	gate_result_release(&r);
	r = result(GATE_FAIL);
	ASSERT(verdict_bisect(&r, files + 2, 2, GATE_BATCH_FILES));
	gate_result_release(&r);
	/* quarters: c passes, d fails alone */
	r = result(GATE_PASS);
	verdict_chunk(&r, files + 2, 1, GATE_BATCH_FILES, &all, v);
	verdict_merge(&agg, &r);
	gate_result_release(&r);
	r = result(GATE_FAIL);
	ASSERT(!verdict_bisect(&r, files + 3, 1, GATE_BATCH_FILES));
	gate_result_msg(&r, "exited with status 1");
	verdict_chunk(&r, files + 3, 1, GATE_BATCH_FILES, &all, v);
	verdict_merge(&agg, &r);
	gate_result_release(&r);
	verdict_finish(&agg, false, true, 1);
	ASSERT_EQ(agg.status, GATE_FAIL);
	ASSERT_STR_EQ(agg.message, "exited with status 1");
	ASSERT_EQ(v[0], GATE_PASS);
	ASSERT_EQ(v[1], GATE_PASS);
	ASSERT_EQ(v[2], GATE_PASS);
	ASSERT_EQ(v[3], GATE_FAIL);
	gate_result_release(&agg);
	strvec_clear(&all);
	return 0;
}

TEST_IMPL(verdict_merge_statuses)
{
	static const struct {
		enum gate_status a, b, want;
	} cases[] = {
		{ GATE_PASS, GATE_FAIL, GATE_FAIL },
		{ GATE_FAIL, GATE_PASS, GATE_FAIL },
		{ GATE_PASS, GATE_SKIPPED, GATE_SKIPPED },
		{ GATE_FAIL, GATE_ERROR, GATE_ERROR },
		{ GATE_TIMEOUT, GATE_FAIL, GATE_TIMEOUT },
		{ GATE_PASS, GATE_TIMEOUT, GATE_TIMEOUT },
		{ GATE_ERROR, GATE_TIMEOUT, GATE_TIMEOUT },
		{ GATE_MISSING, GATE_TIMEOUT, GATE_MISSING },
		{ GATE_FAIL, GATE_MISSING, GATE_MISSING },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct gate_result agg = GATE_RESULT_INIT, r = result(cases[i].a);

		verdict_merge(&agg, &r);
		r.status = cases[i].b;
		verdict_merge(&agg, &r);
		ASSERT_EQ(agg.status, cases[i].want);
		gate_result_release(&agg);
	}
	return 0;
}

TEST_IMPL(verdict_merge_findings_and_messages)
{
	struct gate_result agg = GATE_RESULT_INIT, r = result(GATE_PASS);

	/* a pass's message is kept while nothing else says more */
	gate_result_msg(&r, "1 file checked");
	add(&r, "a.sh", "info");
	verdict_merge(&agg, &r);
	ASSERT_NULL(r.message);		/* moved, not copied */
	ASSERT_STR_EQ(agg.message, "1 file checked");
	gate_result_release(&r);
	r = result(GATE_PASS);
	gate_result_msg(&r, "another pass");
	verdict_merge(&agg, &r);
	ASSERT_STR_EQ(agg.message, "1 file checked");
	ASSERT_STR_EQ(r.message, "another pass");	/* still the chunk's */
	gate_result_release(&r);
	/* a failure's message replaces it */
	r = result(GATE_FAIL);
	gate_result_msg(&r, "exited with status 1");
	add(&r, "b.sh", "error");
	add(&r, "c.sh", "warning");
	verdict_merge(&agg, &r);
	ASSERT_EQ(agg.status, GATE_FAIL);
	ASSERT_STR_EQ(agg.message, "exited with status 1");
	gate_result_release(&r);
	/* a timeout is worse, and says so */
	r = result(GATE_TIMEOUT);
	gate_result_msg(&r, "timed out after 5 s; process group killed");
	verdict_merge(&agg, &r);
	ASSERT_EQ(agg.status, GATE_TIMEOUT);
	ASSERT_CONTAINS(agg.message, "timed out");
	gate_result_release(&r);
	/* a pass after it hides neither the status nor the message; a result
	 * without a message keeps the message there is */
	r = result(GATE_PASS);
	gate_result_msg(&r, "ok");
	verdict_merge(&agg, &r);
	gate_result_release(&r);
	r = result(GATE_ERROR);
	verdict_merge(&agg, &r);
	ASSERT_EQ(agg.status, GATE_TIMEOUT);
	ASSERT_CONTAINS(agg.message, "timed out");
	gate_result_release(&r);
	/* nor does a milder failure's message: it would contradict the status */
	r = result(GATE_FAIL);
	gate_result_msg(&r, "exited with status 1");
	verdict_merge(&agg, &r);
	ASSERT_EQ(agg.status, GATE_TIMEOUT);
	ASSERT_CONTAINS(agg.message, "timed out");
	gate_result_release(&r);
	/* every chunk's findings, in the order they came */
	ASSERT_EQ(agg.findings.n, 3);
	ASSERT_STR_EQ(agg.findings.v[0].path, "a.sh");
	ASSERT_STR_EQ(agg.findings.v[1].path, "b.sh");
	ASSERT_STR_EQ(agg.findings.v[2].path, "c.sh");
	ASSERT_STR_EQ(agg.findings.v[2].severity, "warning");
	gate_result_release(&agg);
	return 0;
}

TEST_IMPL(verdict_merge_test_counts)
{
	struct gate_result agg = GATE_RESULT_INIT, r = result(GATE_PASS);

	/* a chunk that reports no counts (a cache hit, a linter) adds none */
	verdict_merge(&agg, &r);
	ASSERT_EQ(agg.tests_total, -1);
	ASSERT_EQ(agg.tests_passed, -1);
	r.tests_total = 3;
	r.tests_passed = 2;
	r.tests_failed = 1;
	r.tests_skipped = -1;		/* unknown counts as none */
	verdict_merge(&agg, &r);
	ASSERT_EQ(agg.tests_total, 3);
	ASSERT_EQ(agg.tests_passed, 2);
	ASSERT_EQ(agg.tests_failed, 1);
	ASSERT_EQ(agg.tests_skipped, 0);
	r = result(GATE_PASS);
	verdict_merge(&agg, &r);
	ASSERT_EQ(agg.tests_total, 3);
	r.tests_total = 5;
	r.tests_passed = 4;
	r.tests_failed = 0;
	r.tests_skipped = 1;
	verdict_merge(&agg, &r);
	ASSERT_EQ(agg.tests_total, 8);
	ASSERT_EQ(agg.tests_passed, 6);
	ASSERT_EQ(agg.tests_failed, 1);
	ASSERT_EQ(agg.tests_skipped, 1);
	r.tests_total = 2;
	r.tests_passed = -1;
	r.tests_failed = 2;
	r.tests_skipped = -1;
	verdict_merge(&agg, &r);
	ASSERT_EQ(agg.tests_total, 10);
	ASSERT_EQ(agg.tests_passed, 6);
	ASSERT_EQ(agg.tests_failed, 3);
	ASSERT_EQ(agg.tests_skipped, 1);
	ASSERT_EQ(agg.status, GATE_PASS);
	gate_result_release(&agg);
	return 0;
}

TEST_IMPL(verdict_finish_superseded_and_split)
{
	struct gate_result agg = result(GATE_FAIL);

	/* nothing special: as merged */
	verdict_finish(&agg, false, false, 0);
	ASSERT_EQ(agg.status, GATE_FAIL);
	ASSERT_NULL(agg.message);
	agg.status = GATE_PASS;
	verdict_finish(&agg, false, false, 0);
	ASSERT_EQ(agg.status, GATE_PASS);
	/* killed for a newer change: skipped, whatever its chunks said */
	gate_result_msg(&agg, "exited with status 1");
	agg.status = GATE_FAIL;
	verdict_finish(&agg, true, true, 1);
	ASSERT_EQ(agg.status, GATE_SKIPPED);
	ASSERT_CONTAINS(agg.message, "superseded");
	gate_result_release(&agg);
	/* bisected, and every part passed (or was skipped): the batch failed */
	agg = result(GATE_PASS);
	verdict_finish(&agg, false, true, 2);
	ASSERT_EQ(agg.status, GATE_FAIL);
	ASSERT_STR_EQ(agg.message, "exited with status 2 on the batch, but no file fails "
	    "on its own");
	gate_result_release(&agg);
	agg = result(GATE_SKIPPED);
	verdict_finish(&agg, false, true, 2);
	ASSERT_EQ(agg.status, GATE_FAIL);
	gate_result_release(&agg);
	/* bisected, and a part failed or broke: that stands */
	agg = result(GATE_FAIL);
	gate_result_msg(&agg, "b.sh:1: error");
	verdict_finish(&agg, false, true, 2);
	ASSERT_EQ(agg.status, GATE_FAIL);
	ASSERT_STR_EQ(agg.message, "b.sh:1: error");
	agg.status = GATE_TIMEOUT;
	verdict_finish(&agg, false, true, 2);
	ASSERT_EQ(agg.status, GATE_TIMEOUT);
	ASSERT_STR_EQ(agg.message, "b.sh:1: error");
	gate_result_release(&agg);
	return 0;
}

TEST_IMPL(verdict_cache_status_own_pass_or_fail)
{
	ASSERT_EQ(verdict_cache_status(GATE_PASS, GATE_CACHE_ALL, false, true), GATE_PASS);
	ASSERT_EQ(verdict_cache_status(GATE_FAIL, GATE_CACHE_ALL, false, true), GATE_FAIL);
	/* pass_only caches the failure too: lookups skip it */
	ASSERT_EQ(verdict_cache_status(GATE_FAIL, GATE_CACHE_PASS_ONLY, false, true), GATE_FAIL);
	/* no verdict of its own, or one that is the tool's, not the file's */
	ASSERT_EQ(verdict_cache_status(NONE, GATE_CACHE_ALL, false, true), -1);
	ASSERT_EQ(verdict_cache_status(GATE_ERROR, GATE_CACHE_ALL, false, true), -1);
	ASSERT_EQ(verdict_cache_status(GATE_TIMEOUT, GATE_CACHE_ALL, false, true), -1);
	ASSERT_EQ(verdict_cache_status(GATE_SKIPPED, GATE_CACHE_ALL, false, true), -1);
	/* a gate that never caches, --no-cache, a file with no content id */
	ASSERT_EQ(verdict_cache_status(GATE_PASS, GATE_CACHE_NONE, false, true), -1);
	ASSERT_EQ(verdict_cache_status(GATE_PASS, GATE_CACHE_ALL, true, true), -1);
	ASSERT_EQ(verdict_cache_status(GATE_PASS, GATE_CACHE_ALL, false, false), -1);
	return 0;
}

/* A tool that crashed partway (issue 16, point 4): its findings name a
 * file of the chunk, yet the files it never reached are not passed. */
TEST_IMPL(verdict_abnormal_judges_no_file)
{
	static const char *const paths[] = { "a.sh", "b.sh", "c.sh", NULL };
	struct strvec all = STRVEC_INIT;
	signed char v[3];
	struct gate_result r = result(GATE_FAIL);
	const char *const *files;

	task_files(&all, v, paths);
	files = (const char *const *)all.v;
	add(&r, "a.sh", "warning");
	r.abnormal = true;
	/* attributable, but abnormal: split rather than pin */
	ASSERT(verdict_attributable(files, 3, &r));
	ASSERT(verdict_bisect(&r, files, 3, GATE_BATCH_FILES));
	/* had it not been split, no file gets a verdict */
	verdict_chunk(&r, files, 3, GATE_BATCH_FILES, &all, v);
	ASSERT_EQ(v[0], NONE);
	ASSERT_EQ(v[1], NONE);
	ASSERT_EQ(v[2], NONE);
	/* alone: an error, never cached */
	ASSERT(!verdict_bisect(&r, files, 1, GATE_BATCH_FILES));
	verdict_distrust(&r, GATE_BATCH_FILES);
	ASSERT_EQ(r.status, GATE_ERROR);
	ASSERT_STR_EQ(r.message, "the tool ended abnormally");
	verdict_chunk(&r, files, 1, GATE_BATCH_FILES, &all, v);
	ASSERT_EQ(v[0], NONE);
	ASSERT_EQ(verdict_cache_status(v[0], GATE_CACHE_ALL, false, true), -1);
	gate_result_release(&r);
	/* a pass that ended abnormally is no pass either */
	r = result(GATE_PASS);
	r.abnormal = true;
	verdict_chunk(&r, files, 1, GATE_BATCH_ONE, &all, v);
	ASSERT_EQ(v[0], NONE);
	verdict_distrust(&r, GATE_BATCH_ONE);
	ASSERT_EQ(r.status, GATE_ERROR);
	gate_result_release(&r);
	/* a task runner keeps its status: it judges no file alone */
	r = result(GATE_FAIL);
	r.abnormal = true;
	verdict_distrust(&r, GATE_BATCH_NONE);
	ASSERT_EQ(r.status, GATE_FAIL);
	gate_result_release(&r);
	strvec_clear(&all);
	return 0;
}
