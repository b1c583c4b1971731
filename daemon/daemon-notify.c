/* What the daemon tells systemd (Type=notify): READY=1 once watching,
 * RELOADING=1/READY=1 around a config reload, STATUS= after each run,
 * WATCHDOG=1 at half the interval WatchdogSec= asked for, STOPPING=1 when
 * shutdown begins. Outside systemd every call here does nothing. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <uv.h>

#include "daemon-internal.h"
#include "daemon/watch/watcher.h"
#include "lib/log.h"
#include "lib/sdnotify.h"

static void on_watchdog(uv_timer_t *t)
{
	(void)t;
	sdnotify_send("WATCHDOG=1");
}

void notify_begin(struct daemon *d)
{
	uint64_t usec;

	if (!d->notify)
		return;
	usec = sdnotify_watchdog_usec();
	if (usec == 0)
		return;
	/* The ping rides on the loop on purpose: a loop stuck in a callback
	 * stops pinging, and systemd restarts what can no longer serve. */
	uv_timer_init(d->loop, &d->watchdog);
	d->watchdog.data = d;
	uv_timer_start(&d->watchdog, on_watchdog, usec / 2000 ? usec / 2000 : 1,
	    usec / 2000 ? usec / 2000 : 1);
	uv_unref((uv_handle_t *)&d->watchdog);
	d->watchdog_on = true;
}

static void send_status(struct daemon *d, const char *prefix)
{
	struct watcher_stats ws;
	char msg[512], last[128] = "";

	if (!d->notify)
		return;
	watcher_get_stats(d->watcher, &ws);
	if (d->last_run_id[0])
		snprintf(last, sizeof(last), "; last run %s %s", d->last_run_id,
		    d->last_run_status);
	snprintf(msg, sizeof(msg), "%sSTATUS=watching %d directories%s%s%s", prefix, ws.dirs,
	    ws.degraded ? " (degraded: " : "", ws.degraded ? (ws.reason ? ws.reason : "?") : "",
	    ws.degraded ? ")" : "");
	if (last[0] && strlen(msg) + strlen(last) < sizeof(msg))
		strcat(msg, last);
	if (sdnotify_send(msg) < 0)
		log_warn("sd_notify");
}

void notify_ready(struct daemon *d)
{
	char pid[64];

	if (!d->notify)
		return;
	snprintf(pid, sizeof(pid), "MAINPID=%ld\nREADY=1\n", (long)uv_os_getpid());
	send_status(d, pid);
}

void notify_run_done(struct daemon *d, const char *run_id, const char *status)
{
	snprintf(d->last_run_id, sizeof(d->last_run_id), "%s", run_id ? run_id : "");
	snprintf(d->last_run_status, sizeof(d->last_run_status), "%s", status ? status : "");
	send_status(d, "");
}

void notify_reloading(struct daemon *d)
{
	struct timespec ts;
	char msg[96];

	if (!d->notify)
		return;
	/* systemd 253+ wants the monotonic time with RELOADING=1; older
	 * ones ignore the extra field */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	snprintf(msg, sizeof(msg), "RELOADING=1\nMONOTONIC_USEC=%" PRIu64,
	    (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u);
	sdnotify_send(msg);
}

void notify_reloaded(struct daemon *d)
{
	send_status(d, "READY=1\n");
}

void notify_stopping(struct daemon *d)
{
	if (!d->notify)
		return;
	sdnotify_send("STOPPING=1\nSTATUS=stopping");
	if (d->watchdog_on) {
		uv_close((uv_handle_t *)&d->watchdog, NULL);
		d->watchdog_on = false;
	}
}
