/* What the daemon's three files share. daemon.c owns its lifetime
 * (start-up order, shutdown), daemon-path.c the data path's callbacks and
 * the ledger's upkeep, daemon-serve.c the socket's requests, the status
 * document and the sync barrier. Everything here runs on the loop thread. */
#ifndef WD_DAEMON_INTERNAL_H
#define WD_DAEMON_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "daemon.h"

struct client;
struct remote;
struct config_err;
struct events;
struct gate;
struct sched;
struct sched_gate_done;
struct strvec;

struct sync_wait {
	struct daemon	*d;
	struct client	*client;
	char		*cookie;	/* file name in ROOT */
	uint64_t	 seq;		/* 0 until the cookie event is seen */
	uv_timer_t	 timer;
	struct sync_wait *next;
};

struct daemon {
	struct cli_ctx	*ctx;
	uv_loop_t	*loop;
	uv_signal_t	 sigterm, sigint;
	struct ledger	*ledger;
	struct repo	*repo;
	struct ignore	*ig;
	struct tree	*tree;		/* the watch stage's state: built by the
					 * watcher, dispatch stamps from settle;
					 * freed once both have closed */
	struct watcher	*watcher;
	struct settle	*settle;	/* NULL once stopping */
	struct sched	*sched;
	struct server	*server;
	struct events	*events;	/* daemon-events.c */
	char		*sock_path;
	char		*tmp_dir;
	uint64_t	 seq;		/* event sequence numbers */
	uint64_t	 cookie_n;
	uint64_t	 started;	/* loop time */
	struct sync_wait *syncs;
	bool		 stopping;
	char		*config_rel;	/* the config's path under ROOT, or NULL */
	char		*config_error;	/* why the last reload was refused, or NULL */
	struct retired	*retired;	/* configs still used by queued tasks */
	uv_timer_t	 ledger_retry;	/* runs while ledger_queued() > 0 */
	uv_timer_t	 ledger_gc;	/* hourly retention */
	uv_timer_t	 ledger_quiet;	/* checkpoint once nothing ran for a while */
	uv_timer_t	 ledger_stage;	/* writes out staged results (ledger_stage) */
	bool		 notify;	/* systemd gave a NOTIFY_SOCKET */
	bool		 watchdog_on;
	uv_timer_t	 watchdog;	/* WATCHDOG=1 pings, when WatchdogSec= is set */
	char		 last_run_id[32];	/* for STATUS= */
	char		 last_run_status[16];
	uv_fs_event_t	 sock_dir_ev;	/* the socket's directory and its parent: */
	uv_fs_event_t	 sock_parent_ev;	/* a socket whose name went away is made again */
	struct remote	*remote;	/* daemon-remote.c; NULL: none */
	char		*remote_sig;	/* the settings it was made from */
	bool		 stall_on;	/* daemon-stall.c, WATCHD_BENCH_STAGES=1 only: */
	uv_prepare_t	 stall;		/* each loop turn's busy time */
	uint64_t	 stall_ns, stall_idle_ns;	/* at the last turn */
};

struct retired {
	struct config	 cfg;
	struct remote	*remote;	/* replaced by a reload, or NULL */
	struct retired	*next;
};

/* daemon-remote.c: the remote cache, from the config and the environment. */
/* Makes d->remote for ctx->cfg at start (NULL when none is set; a URL it
 * cannot use is a warning). */
void remote_begin(struct daemon *d);
/* After a reload: when the settings changed, a new remote replaces the
 * old, which is retired into r (freed with the retired config). */
void remote_reconfigure(struct daemon *d, struct retired *r);
/* Frees d->remote and the retired ones (the loop must run on to close
 * their handles). */
void remote_end(struct daemon *d);

/* daemon-path.c: callbacks of the watcher, settle and the scheduler, in
 * data-path order, and the ledger's upkeep. arg is the struct daemon. */
void path_on_file(void *arg, const char *rel, unsigned what, uint64_t read_ms);
void path_on_git(void *arg, const char *name, bool gone);
bool path_backlog(void *arg);
void path_on_rules(void *arg, const char *rel);
void path_on_batch(void *arg, const struct strvec *changed, const struct strvec *removed,
    uint64_t seq);
void path_list_files(void *arg, const struct gate *g, struct strvec *out);
/* settle_opts.closed: hands a writer's close (or any other event) to the
 * scheduler, which hashes the file while its batch settles. */
void path_on_closed(void *arg, const char *rel, uint64_t stamp);
void path_on_run_done(struct sched *s, const char *run_id, const char *status, void *arg);
/* Retention from the config's "ledger" section (at start, then hourly). */
void path_ledger_prune(struct daemon *d);
void path_on_ledger_gc(uv_timer_t *t);
bool path_busy(void *arg);

/* daemon-stall.c: with WATCHD_BENCH_STAGES=1, logs each loop turn that
 * spent 1 ms or more outside the kernel's poll; else does nothing. */
void stall_watch_start(struct daemon *d);
void stall_watch_stop(struct daemon *d);
/* Forgets results for files and gates the config no longer has. */
void path_prune_state(struct daemon *d);
/* Releases configs replaced by a reload once no task uses them. */
void path_free_retired(struct daemon *d);

/* daemon-serve.c: what the socket is asked, and `status --sync`. */
void serve_on_request(struct client *c, const cJSON *msg, void *arg);
/* The watcher saw a cookie file, or finished a rescan (arg: the daemon). */
void serve_on_cookie(void *arg, const char *name);
void serve_on_rescanned(void *arg, bool full);
/* Answers every sync whose changes have all been gated. Call after
 * anything that may have finished some: a batch, a run, a cookie. */
void serve_check_syncs(struct daemon *d);
/* Answers every waiting sync with "synced": false (the daemon stops). */
void serve_cancel_syncs(struct daemon *d);

/* daemon-notify.c: systemd's notify protocol; no-ops outside systemd.
 * daemon_main reads (and hides from children) NOTIFY_SOCKET first thing;
 * notify_begin starts the watchdog timer; the rest send the state named. */
void notify_begin(struct daemon *d);
void notify_ready(struct daemon *d);
void notify_run_done(struct daemon *d, const char *run_id, const char *status);
void notify_reloading(struct daemon *d);
void notify_reloaded(struct daemon *d);
void notify_stopping(struct daemon *d);

/* daemon-events.c: what the daemon did, told to those who watch it;
 * under --foreground (foreground true) each finished run is printed on
 * stdout. */
struct events *events_new(struct daemon *d, bool foreground);
void events_free(struct events *ev);	/* NULL-safe */
/* The scheduler's run_started and gate_done hooks (arg: the daemon). */
void events_run_started(void *arg, const char *run_id, const struct strvec *gates,
    const struct strvec *changed, const struct strvec *removed);
void events_gate_done(void *arg, const struct sched_gate_done *g);
/* The rest are NULL-safe, and cost nothing while nobody listens. */
/* From path_on_run_done: the run is recorded. */
void events_run_finished(struct events *ev, const char *run_id, const char *status);
/* A "subscribe" request: c's connection becomes a subscriber (or is
 * answered with an error while stopping). */
void events_subscribe(struct events *ev, struct client *c);
/* Subscribers being sent events. */
size_t events_subscribers(const struct events *ev);
void events_rescan(struct events *ev, bool full);
void events_config_reloaded(struct events *ev, const struct strvec *changed_gates);
/* msg: e formatted (config_err_format). */
void events_config_error(struct events *ev, const struct config_err *e, const char *msg);
/* what: "ledger", "run"...; msg: the sentence the log got. */
void events_error(struct events *ev, const char *what, const char *msg);
/* The last event: subscribers get "stopping" and are closed. */
void events_stopping(struct events *ev);

/* daemon.c */
void daemon_begin_stop(struct daemon *d);

#endif
