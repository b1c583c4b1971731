/* Progress of a one-shot run on stderr. On a terminal, once the run has
 * taken about a second, one line per running gate (files judged of total,
 * elapsed) is redrawn in place and erased at the end. Elsewhere (a CI log)
 * nothing is drawn; once the run has taken a second, each finished gate is
 * one line, those finished before included. A run shorter than that
 * prints nothing. */
#ifndef WD_PROGRESS_H
#define WD_PROGRESS_H

#include <uv.h>

#include "daemon/run/sched.h"

struct progress;

/* Starts the clock; the scheduler is attached later (progress_attach),
 * since it is built with progress_gate_done as its gate_done hook. */
struct progress *progress_new(uv_loop_t *loop);
void progress_attach(struct progress *p, struct sched *s);
/* sched_opts.gate_done, with the progress as hook_arg. */
void progress_gate_done(void *arg, const struct sched_gate_done *g);
/* Erases what is drawn and closes the timer: run the loop afterwards so
 * that the close completes, then the progress is freed. NULL-safe. */
void progress_end(struct progress *p);

#endif
