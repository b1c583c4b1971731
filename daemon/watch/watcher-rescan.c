/* Rescans: reconciling the whole tree with the disk after the kernel's
 * event queue overflowed (events were lost), after the ignore rules
 * changed, or when asked; and the one timer that wakes for them and for
 * the degraded scans.
 *
 * Invariants:
 *  - a rescan reports exactly the files that differ from the tree (see
 *    watcher-scan.c), so every change made in the lost window is reported
 *    once and unchanged files are not;
 *  - rescans after overflows and after ignore-rule changes back off
 *    separately: one pending rescan serves both, due at the earlier time;
 *  - no timer runs unless a rescan is due or the watcher is degraded. */
#include <malloc.h>

#include "ignore.h"
#include "lib/log.h"
#include "watcher-internal.h"

#define RESCAN_MIN_MS 100
#define RESCAN_MAX_MS 10000
#define RULES_MIN_MS 50		/* one save is several events: rescan once */
#define RULES_MAX_MS 2000

void rescan_init(struct watcher *w)
{
	w->backoff[RESCAN_OVERFLOW] = (struct backoff){ 0, 0, RESCAN_MIN_MS, RESCAN_MAX_MS };
	w->backoff[RESCAN_RULES] = (struct backoff){ 0, 0, RESCAN_MIN_MS, RULES_MAX_MS };
}

static void do_rescan(struct watcher *w)
{
	uint64_t now = uv_now(w->loop);

	for (int k = 0; k < RESCAN_KINDS; k++)
		if (w->rescan_kinds & (1u << k))
			w->backoff[k].last = now;
	w->rescan_kinds = 0;
	w->st.rescans++;
	scan_path(w, w->tree->top, true);
	ignore_trim(w->ig);
	malloc_trim(0);
	log_info("rescan done: %d dirs watched, %llu files", w->st.dirs,
	    (unsigned long long)w->tree->files);
	degraded_report(w);
	if (w->cb.rescanned)
		w->cb.rescanned(w->cb.arg, true);
}

static void on_scan_timer(uv_timer_t *t)
{
	struct watcher *w = t->data;
	uint64_t now = uv_now(w->loop);

	if (w->rescan_kinds && w->rescan_due <= now)
		do_rescan(w);
	if (w->st.degraded && w->degraded_at && w->degraded_at <= now)
		degraded_scan(w);
	rescan_timer_arm(w);
}

/* One timer serves the due rescan and the degraded scans: it wakes for
 * the earlier, and not at all when neither is due. */
void rescan_timer_arm(struct watcher *w)
{
	uint64_t now = uv_now(w->loop), at = UINT64_MAX;

	if (w->closing)
		return;
	if (w->rescan_kinds)
		at = w->rescan_due;
	if (w->st.degraded && w->degraded_at && w->degraded_at < at)
		at = w->degraded_at;
	if (at == UINT64_MAX) {
		uv_timer_stop(&w->scan_timer);
		return;
	}
	uv_timer_start(&w->scan_timer, on_scan_timer, at > now ? at - now : 0, 0);
}

/* The wait before a rescan of one kind: its first after a quiet period
 * waits `first`; each that follows the last one closely waits twice as
 * long as the previous, up to max, so a storm cannot pin a core. */
static uint64_t backoff_next(struct backoff *b, uint64_t first, uint64_t now)
{
	if (b->last && now - b->last < b->max * 2) {
		b->delay = b->delay < b->min ? b->min : b->delay * 2;
		if (b->delay > b->max)
			b->delay = b->max;
	} else
		b->delay = first;
	return b->delay;
}

static void rescan_request(struct watcher *w, int kind, uint64_t first, const char *why)
{
	uint64_t now = uv_now(w->loop), due;

	log_info("rescan requested: %s", why);
	if (w->rescan_kinds & (1u << kind))
		return;		/* the rescan due serves this one too */
	due = now + backoff_next(&w->backoff[kind], first, now);
	if (w->rescan_kinds == 0 || due < w->rescan_due)
		w->rescan_due = due;
	w->rescan_kinds |= 1u << kind;
	if (w->rescan_due <= now)
		do_rescan(w);
	rescan_timer_arm(w);
}

void rescan_overflow(struct watcher *w)
{
	w->st.overflows++;
	log_warnx("inotify queue overflow: events were lost; rescanning");
	watcher_rescan(w, "IN_Q_OVERFLOW");
}

void watcher_rescan(struct watcher *w, const char *why)
{
	rescan_request(w, RESCAN_OVERFLOW, 0, why);
}

void watcher_rules_changed(struct watcher *w, const char *why)
{
	rescan_request(w, RESCAN_RULES, RULES_MIN_MS, why);
}

bool watcher_busy(const struct watcher *w)
{
	return w->rescan_kinds != 0;
}
