/* One-shot progress on stderr: redrawn lines on a terminal, one line per
 * finished gate elsewhere, nothing for a run under a second. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "gates/gate.h"
#include "lib/color.h"
#include "lib/strvec.h"
#include "lib/xmalloc.h"
#include "progress.h"

#define PROGRESS_AFTER_MS	1000	/* a run this short says nothing */
#define PROGRESS_EVERY_MS	200
#define PROGRESS_MAX_LINES	16	/* gates drawn at once */

struct progress {
	uv_timer_t	 timer;
	struct sched	*sched;
	bool		 tty;
	bool		 shown;		/* past PROGRESS_AFTER_MS */
	int		 drawn;		/* lines on the terminal now */
	struct strvec	 finished;	/* non-terminal: lines held until shown */
};

static void erase(struct progress *p)
{
	/* the cursor sits at the start of the line after the last drawn */
	for (; p->drawn > 0; p->drawn--)
		fputs("\033[1A\033[2K", stderr);
	fflush(stderr);
}

static int term_width(void)
{
	struct winsize ws;

	if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 10)
		return ws.ws_col;
	return 80;
}

static void draw(struct progress *p)
{
	struct sched_progress v[PROGRESS_MAX_LINES];
	size_t n = p->sched ? sched_progress(p->sched, v, PROGRESS_MAX_LINES) : 0;
	int width = term_width() - 1;	/* a full line would wrap on some terminals */

	erase(p);
	for (size_t i = 0; i < n; i++) {
		char line[512];

		/* cut to the width: a wrapped line could not be erased */
		snprintf(line, sizeof(line), "watchd: %s %zu/%zu files, %.1f s", v[i].gate,
		    v[i].done, v[i].total, (double)v[i].elapsed_ms / 1000.0);
		if ((int)strlen(line) > width)
			line[width] = '\0';
		fprintf(stderr, "%s%s%s\n", color_on(2, COLOR_PATH), line, color_off(2));
		p->drawn++;
	}
	fflush(stderr);
}

static void on_tick(uv_timer_t *t)
{
	struct progress *p = t->data;

	if (!p->shown) {
		p->shown = true;
		if (!p->tty) {
			for (size_t i = 0; i < p->finished.n; i++)
				fprintf(stderr, "%s\n", p->finished.v[i]);
			fflush(stderr);
			strvec_clear(&p->finished);
			uv_timer_stop(t);
			return;
		}
	}
	draw(p);
}

struct progress *progress_new(uv_loop_t *loop)
{
	struct progress *p = xcalloc(1, sizeof(*p));

	/* a dumb terminal cannot move the cursor up: it gets the log lines */
	p->tty = isatty(STDERR_FILENO) && !(getenv("TERM") && strcmp(getenv("TERM"), "dumb") == 0);
	uv_timer_init(loop, &p->timer);
	p->timer.data = p;
	uv_timer_start(&p->timer, on_tick, PROGRESS_AFTER_MS, p->tty ? PROGRESS_EVERY_MS : 0);
	/* the timer must not keep the loop alive once the run is done */
	uv_unref((uv_handle_t *)&p->timer);
	return p;
}

void progress_attach(struct progress *p, struct sched *s)
{
	p->sched = s;
}

void progress_gate_done(void *arg, const struct sched_gate_done *g)
{
	struct progress *p = arg;
	char *line;

	if (p->tty)
		return;		/* the redrawn lines said it; the result follows */
	line = xasprintf("watchd: gate %s %s (%zu files, %zu findings%s) in %.1f s", g->gate,
	    gate_status_name(g->status), g->files ? g->files->n : 0,
	    g->findings ? g->findings->n : 0, g->cached ? ", cached" : "",
	    (double)g->duration_ms / 1000.0);
	if (p->shown) {
		fprintf(stderr, "%s\n", line);
		fflush(stderr);
		free(line);
	} else
		strvec_push_owned(&p->finished, line);
}

static void on_closed(uv_handle_t *h)
{
	struct progress *p = h->data;

	strvec_clear(&p->finished);
	free(p);
}

void progress_end(struct progress *p)
{
	if (p == NULL)
		return;
	if (p->tty)
		erase(p);
	p->sched = NULL;
	uv_close((uv_handle_t *)&p->timer, on_closed);
}
