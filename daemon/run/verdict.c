/* Verdicts: what a chunk's result says about each of its files, when a
 * failing batch is bisected, and how chunk results become the gate's.
 * Pure: the scheduler (sched-exec.c) brings the results and the files. */
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "verdict.h"

int verdict_rank(enum gate_status st)
{
	switch (st) {
	case GATE_PASS: return 0;
	case GATE_SKIPPED: return 1;
	case GATE_FAIL: return 2;
	case GATE_ERROR: return 3;
	case GATE_TIMEOUT: return 4;
	case GATE_MISSING: return 5;
	}
	return 3;
}

bool verdict_attributable(const char *const *files, size_t n, const struct gate_result *r)
{
	if (r->findings.n == 0)
		return false;
	for (size_t k = 0; k < r->findings.n; k++) {
		const char *p = r->findings.v[k].path;
		bool mine = false;

		for (size_t i = 0; p && i < n && !mine; i++)
			mine = strcmp(files[i], p) == 0;
		if (!mine)
			return false;
	}
	return true;
}

void verdict_chunk(const struct gate_result *r, const char *const *files, size_t n,
    enum gate_batching batching, const struct strvec *all, signed char *verdict)
{
	bool alone = n == 1 && batching != GATE_BATCH_NONE;
	bool pin = r->status == GATE_FAIL && (alone || verdict_attributable(files, n, r));
	bool serious = false;

	if (r->abnormal || (r->status != GATE_PASS && !pin))
		return;
	for (size_t k = 0; pin && k < r->findings.n && !serious; k++)
		serious = strcmp(r->findings.v[k].severity, "info") != 0;
	for (size_t i = 0; i < n; i++) {
		ssize_t fi = strvec_bsearch(all, files[i]);
		bool named = alone;

		if (fi < 0)
			continue;
		for (size_t k = 0; pin && k < r->findings.n && !named; k++)
			named = strcmp(r->findings.v[k].path, files[i]) == 0 &&
			    (!serious || strcmp(r->findings.v[k].severity, "info") != 0);
		verdict[fi] = r->status == GATE_PASS ? GATE_PASS : named ? GATE_FAIL : GATE_PASS;
	}
}

bool verdict_bisect(const struct gate_result *r, const char *const *files, size_t n,
    enum gate_batching batching)
{
	return n > 1 && batching == GATE_BATCH_FILES &&
	    (r->abnormal || (r->status == GATE_FAIL && !verdict_attributable(files, n, r)));
}

void verdict_distrust(struct gate_result *r, enum gate_batching batching)
{
	if (!r->abnormal || batching == GATE_BATCH_NONE)
		return;
	if (r->status == GATE_PASS || r->status == GATE_FAIL || r->status == GATE_SKIPPED) {
		r->status = GATE_ERROR;
		if (r->message == NULL)
			gate_result_msg(r, "the tool ended abnormally");
	}
}

void verdict_merge(struct gate_result *agg, struct gate_result *r)
{
	/* the message must explain the status: a later failure's message
	 * must not stand beside an earlier timeout */
	bool says_more = r->status != GATE_PASS &&
	    verdict_rank(r->status) >= verdict_rank(agg->status);

	if (verdict_rank(r->status) > verdict_rank(agg->status))
		agg->status = r->status;
	for (size_t i = 0; i < r->findings.n; i++)
		findings_add(&agg->findings, &r->findings.v[i]);
	if (r->message && (agg->message == NULL || says_more)) {
		free(agg->message);
		agg->message = r->message;
		r->message = NULL;
	}
	if (r->tests_total >= 0) {
		if (agg->tests_total < 0)
			agg->tests_total = agg->tests_passed = agg->tests_failed =
			    agg->tests_skipped = 0;
		agg->tests_total += r->tests_total;
		agg->tests_passed += r->tests_passed > 0 ? r->tests_passed : 0;
		agg->tests_failed += r->tests_failed > 0 ? r->tests_failed : 0;
		agg->tests_skipped += r->tests_skipped > 0 ? r->tests_skipped : 0;
	}
}

void verdict_finish(struct gate_result *agg, bool superseded, bool split, int split_exit)
{
	if (superseded) {
		agg->status = GATE_SKIPPED;
		gate_result_msg(agg, "superseded: a newer change restarted this gate");
	} else if (split && verdict_rank(agg->status) < verdict_rank(GATE_FAIL)) {
		/* the batch failed, yet every part of it passed on its own */
		agg->status = GATE_FAIL;
		gate_result_msg(agg, "exited with status %d on the batch, but no file "
		    "fails on its own", split_exit);
	}
}

int verdict_cache_status(int v, enum gate_cache cache, bool no_cache, bool has_key)
{
	if (cache == GATE_CACHE_NONE || no_cache || !has_key)
		return -1;
	return v == GATE_PASS || v == GATE_FAIL ? v : -1;
}
