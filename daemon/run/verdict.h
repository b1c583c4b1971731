/* The scheduler's verdicts, as pure functions over results and file lists
 * (no libuv, no ledger, no processes): which files a chunk's result judges
 * one by one, when a failing batch is bisected, how the results of a task's
 * chunks merge into the gate's result, and which verdicts may be cached. */
#ifndef WD_VERDICT_H
#define WD_VERDICT_H

#include <stdbool.h>
#include <stddef.h>

#include "gates/gate.h"
#include "lib/strvec.h"

/* Status precedence when chunks disagree, the worst highest: pass, skipped,
 * fail, error, timeout, missing. An unknown status ranks as an error. */
int verdict_rank(enum gate_status st);

/* True when r has findings and every one names one of files[0..n) (a
 * finding without a path names none): only then can a verdict on several
 * files at once be split per file. */
bool verdict_attributable(const char *const *files, size_t n, const struct gate_result *r);

/* Per-file verdicts from the result r of one chunk, files[0..n), a slice of
 * its task's files `all` (sorted): verdict[i], for file i of all, becomes
 * GATE_PASS or GATE_FAIL for each chunk file the tool gave a verdict of its
 * own, and the rest of verdict is left alone.
 *  - A pass covers every file of the chunk.
 *  - A failure is pinned on the file of a chunk of one (unless batching is
 *    GATE_BATCH_NONE: a task runner is not told its files, so the one in
 *    its chunk is no more to blame than any other file of the tree), or,
 *    when verdict_attributable, on the files its findings name: those with
 *    a finding above "info" if there is one, else any finding (shellcheck
 *    fails on notes too). The chunk's other files pass.
 *  - Anything else (a failure naming no file of the chunk, an error, a
 *    timeout, a result marked abnormal) gives no file a verdict.
 * A chunk file missing from all is skipped. */
void verdict_chunk(const struct gate_result *r, const char *const *files, size_t n,
    enum gate_batching batching, const struct strvec *all, signed char *verdict);

/* True when the chunk files[0..n) should run again split in halves: the
 * tool failed a batch of several files (GATE_BATCH_FILES) without saying
 * which of them fail (not verdict_attributable), or ended abnormally
 * (r->abnormal: a crash partway through leaves the files it never reached
 * unjudged, whatever its findings say about the others). */
bool verdict_bisect(const struct gate_result *r, const char *const *files, size_t n,
    enum gate_batching batching);

/* An abnormal result that is not bisected (one file, or a {file} gate)
 * judged nothing it can vouch for: a pass or a fail becomes GATE_ERROR
 * (r->message kept, or set). A task runner's result (GATE_BATCH_NONE)
 * keeps its status: it gives no file a verdict of its own anyway. */
void verdict_distrust(struct gate_result *r, enum gate_batching batching);

/* Merges a chunk's result r into the task's agg: the worst status wins
 * (verdict_rank), r's findings are copied, r's message moves to agg (r's
 * becomes NULL) when agg has none, or when r did not pass and is at least
 * as bad as agg was (so the message explains the status), and test counts add up
 * (agg's start from 0 at the first r that has any; negative parts count 0).
 * r still needs gate_result_release. */
void verdict_merge(struct gate_result *agg, struct gate_result *r);

/* The gate's result once every chunk is in: a superseded task is
 * GATE_SKIPPED; a task whose failing batch was bisected (split) failed even
 * when every part passed on its own, as the batch exited with status
 * split_exit. Either way agg->message says why. */
void verdict_finish(struct gate_result *agg, bool superseded, bool split, int split_exit);

/* The status to cache for a file whose own verdict is v (-1: none): v when
 * it is a pass or a fail, the gate caches (cache is not GATE_CACHE_NONE),
 * caching is on and the file has a cache key; else -1. */
int verdict_cache_status(int v, enum gate_cache cache, bool no_cache, bool has_key);

#endif
