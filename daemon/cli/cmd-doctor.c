/* watchd doctor [--json]: checks what watchd depends on, one line each:
 * the inotify limits against this tree, each gate's tool, the config, the
 * ledger, the socket directory, the git hooks and the daemon. A check is
 * "ok", "info" (nothing wrong, nothing to check: no daemon, no ledger yet,
 * no hook), "warn" (works, but worth fixing) or "fail" (something watchd
 * needs is broken); every line that is not ok or info says how to fix it.
 * Exit 0 unless a check failed (then 1); warnings do not change the exit
 * code. Doctor only reads: it creates nothing, starts nothing, and opens
 * the ledger read-only. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <uv.h>

#include "cli.h"
#include "daemon/git/repo.h"
#include "daemon/ipc/ipc.h"
#include "daemon/ledger/ledger.h"
#include "daemon/remote/settings.h"
#include "daemon/run/spawn.h"
#include "daemon/watch/ignore.h"
#include "daemon/watch/walk.h"
#include "gates/gate.h"
#include "lib/buf.h"
#include "lib/hmap.h"
#include "lib/inotify-budget.h"
#include "lib/sha256.h"
#include "lib/xmalloc.h"

#define PROBE_TIMEOUT_S	10	/* a version probe that takes longer is killed */
#define PING_MS		2000	/* a live daemon answers a ping well within this */
#define WATCHES_FLOOR	524288	/* the least max_user_watches doctor suggests */
#define INSTANCES_FLOOR	512
#define SYSCTL_FILE	"/etc/sysctl.d/90-watchd.conf"

static int cmd_doctor_exec(struct cli_ctx *, const struct args *);

const struct cmd_entry cmd_doctor_entry = {
	.name = "doctor",
	.usage = "[--json]",
	.help = "check limits, tools, config, ledger, remote cache, socket, hook; exit 0 ok, 1 problems",
	.flags = CMD_ROOT,
	.args = {
		.opts = (const struct args_opt[]){
			{ "json", 0 },
			{ NULL, 0 },
		},
	},
	.exec = cmd_doctor_exec,
};

enum doc_status { DOC_OK, DOC_INFO, DOC_WARN, DOC_FAIL };

static const char *const status_names[] = { "ok", "info", "warn", "fail" };

struct check {
	char		*name;
	enum doc_status	 status;
	char		*detail;	/* what was found */
	char		*fix;		/* what to do, or NULL */
};

/* Everything doctor learns, in the order it prints. */
struct doctor {
	struct cli_ctx	*ctx;
	struct check	*v;
	size_t		 n, alloc;
	struct config	 cfg;
	bool		 cfg_ok;
	struct repo	*repo;		/* NULL outside git */
	long		 daemon_pid;	/* 0: none answered */
	char		*daemon_detail;
	enum doc_status	 daemon_status;
	char		*daemon_fix;
};

/* One line per check, in text and in JSON alike: SQLite's multi-line
 * complaints and a newline in a path become spaces, other control
 * characters '?'. */
static char *one_line(char *s)
{
	for (char *p = s; p && *p; p++) {
		if (*p == '\n' || *p == '\t' || *p == '\r')
			*p = ' ';
		else if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	}
	return s;
}

/* Appends a check; takes ownership of detail and fix (malloc'ed or NULL). */
static struct check *add(struct doctor *d, enum doc_status st, const char *name, char *detail,
    char *fix)
{
	struct check *c;

	if (d->n == d->alloc) {
		d->alloc = d->alloc ? 2 * d->alloc : 16;
		d->v = xrealloc(d->v, d->alloc * sizeof(*d->v));
	}
	c = &d->v[d->n++];
	c->name = one_line(xstrdup(name));
	c->status = st;
	c->detail = one_line(detail);
	c->fix = one_line(fix);
	return c;
}

/* ---- the daemon (asked first: its own watches are not "in use") --------- */

static void probe_daemon(struct doctor *d)
{
	char *sock = ipc_socket_path(d->ctx->root);
	struct wd_err err = { 0, "" };
	cJSON *req = cJSON_CreateObject(), *resp = NULL;
	struct stat st;
	int rc;

	if (lstat(sock, &st) < 0) {
		d->daemon_status = DOC_INFO;
		d->daemon_detail = xstrdup("not running");
		d->daemon_fix = xstrdup("watchd start");
		goto out;
	}
	cJSON_AddStringToObject(req, "cmd", "ping");
	rc = ipc_request(sock, req, PING_MS, &resp, &err);
	if (rc == WD_ENOTRUNNING) {
		d->daemon_status = DOC_INFO;
		d->daemon_detail = xasprintf("not running (a stale socket %s is left; the next "
		    "start replaces it)", sock);
		d->daemon_fix = xstrdup("watchd start");
	} else if (rc != 0) {
		d->daemon_status = DOC_FAIL;
		d->daemon_detail = xasprintf("%s does not answer: %s", sock, err.msg);
		d->daemon_fix = xstrdup("watchd stop (or kill the process holding the socket), "
		    "then watchd start");
	} else {
		const cJSON *pid = cJSON_GetObjectItemCaseSensitive(resp, "pid");

		d->daemon_pid = cJSON_IsNumber(pid) ? (long)pid->valuedouble : 0;
		d->daemon_status = DOC_OK;
		d->daemon_detail = xasprintf("running, pid %ld, socket %s", d->daemon_pid, sock);
	}
out:
	cJSON_Delete(resp);
	cJSON_Delete(req);
	free(sock);
}

/* ---- inotify limits ------------------------------------------------------ */

/* Watches besides the tree's directories: the git directory and the
 * directories of the ignore files git reads from outside the tree (what
 * the watcher's events_setup adds), each directory once. */
static size_t meta_watches(struct doctor *d, struct ignore *ig)
{
	struct strvec files = STRVEC_INIT, dirs = STRVEC_INIT;
	char *rroot = realpath(d->ctx->root, NULL);
	size_t rl = rroot ? strlen(rroot) : 0, n;

	if (d->repo == NULL) {
		free(rroot);
		return 0;
	}
	{
		char *g = realpath(repo_gitdir(d->repo), NULL);

		if (g)
			strvec_push_owned(&dirs, g);
	}
	ignore_rules_files(ig, &files);
	for (size_t i = 0; i < files.n; i++) {
		const char *f = files.v[i], *slash = strrchr(f, '/');
		char *dir, *real;

		if (f[0] != '/' || slash == NULL)
			continue;
		dir = slash > f ? xstrndup(f, (size_t)(slash - f)) : xstrdup("/");
		real = realpath(dir, NULL);
		free(dir);
		if (real == NULL)
			continue;	/* not there: nothing to watch yet */
		if (rroot && strncmp(real, rroot, rl) == 0 && (real[rl] == '/' || !real[rl]) &&
		    strstr(real + rl, "/.git") == NULL) {
			free(real);	/* inside the tree: watched with it */
			continue;
		}
		strvec_push_owned(&dirs, real);
	}
	strvec_sort_uniq(&dirs);
	n = dirs.n;
	strvec_clear(&dirs);
	strvec_clear(&files);
	free(rroot);
	return n;
}

static void limit_check(struct doctor *d, const char *name, const char *sysctl,
    const struct inotify_budget *b, const char *what, const char *usage, const char *extra_fix)
{
	enum doc_status st = b->fit == INOTIFY_SHORT ? DOC_FAIL :
	    b->fit == INOTIFY_FITS ? DOC_OK : DOC_WARN;
	char *detail, *fix = NULL;

	if (b->fit == INOTIFY_UNKNOWN) {
		add(d, DOC_WARN, name, xasprintf("%s; cannot read %s from /proc/sys/fs/inotify",
		    what, sysctl), xasprintf("check that /proc is mounted (cat /proc/sys/fs/"
		    "inotify/%s)", strrchr(sysctl, '.') + 1));
		return;
	}
	detail = xasprintf("%s; %s=%ld, %s, %ld left%s", what, sysctl, b->limit, usage, b->left,
	    b->fit == INOTIFY_SHORT ? ": not enough, watchd would run degraded (periodic "
	    "rescans)" : b->fit == INOTIFY_TIGHT ? ": less than a tenth of the limit would "
	    "remain for other programs" : "");
	if (st != DOC_OK)
		fix = xasprintf("sudo sysctl %s=%ld; persist it: echo %s=%ld | sudo tee %s%s",
		    sysctl, b->suggest, sysctl, b->suggest, SYSCTL_FILE, extra_fix);
	add(d, st, name, detail, fix);
}

static void check_inotify(struct doctor *d)
{
	static const struct strvec none = STRVEC_INIT;
	struct ignore *ig = ignore_new(d->cfg_ok ? &d->cfg.ignore : &none, d->repo);
	struct inotify_limits lim;
	struct inotify_usage use = { 0 }, mine = { 0 };
	struct inotify_budget bw, bi;
	size_t ndirs = 0, nmeta;
	char *what, *usage;
	int rc;

	rc = walk_count_dirs(d->ctx->root, ig, &ndirs);
	nmeta = rc == 0 ? meta_watches(d, ig) : 0;
	ignore_free(ig);
	if (rc != 0) {
		add(d, DOC_FAIL, "inotify-watches", xasprintf("cannot list %s: %s", d->ctx->root,
		    strerror(-rc)), xstrdup("check the directory's permissions"));
		return;
	}
	inotify_limits_read(NULL, &lim);
	inotify_usage_uid(NULL, geteuid(), &use);
	/* a running daemon for this tree already holds what it needs */
	if (d->daemon_pid > 0 && inotify_usage_pid(NULL, (pid_t)d->daemon_pid, &mine) == 0) {
		use.watches -= mine.watches;
		use.instances -= mine.instances;
	}
	inotify_budget(lim.max_watches, use.watches, (long)(ndirs + nmeta), WATCHES_FLOOR, &bw);
	inotify_budget(lim.max_instances, use.instances, 1, INSTANCES_FLOOR, &bi);

	what = xasprintf("this tree needs %ld watches (%zu director%s%s%s)", bw.need, ndirs,
	    ndirs == 1 ? "y" : "ies",
	    nmeta ? ", plus git metadata" : "", d->cfg_ok ? "" : "; the config's ignore list "
	    "was not applied");
	usage = xasprintf("%ld in use by uid %u's processes%s%s", bw.used, (unsigned)geteuid(),
	    use.unreadable ? " that could be read" : "",
	    d->daemon_pid > 0 ? " (the running daemon's not counted)" : "");
	limit_check(d, "inotify-watches", "fs.inotify.max_user_watches", &bw, what, usage,
	    "; or add big directories to \"ignore\" in the config");
	free(what);
	free(usage);
	what = xstrdup("the daemon needs 1 instance");
	usage = xasprintf("%ld in use by uid %u's processes%s", bi.used, (unsigned)geteuid(),
	    d->daemon_pid > 0 ? " (the running daemon's not counted)" : "");
	limit_check(d, "inotify-instances", "fs.inotify.max_user_instances", &bi, what, usage, "");
	free(what);
	free(usage);
}

/* ---- config -------------------------------------------------------------- */

static void check_config(struct doctor *d)
{
	const char *path = d->ctx->config_path;
	struct config_err err;
	struct stat st;

	if (stat(path, &st) < 0 && errno == ENOENT) {
		add(d, DOC_FAIL, "config", xasprintf("%s: no such file", path),
		    xstrdup("watchd init (writes a starter config for this tree)"));
		return;
	}
	if (config_load(path, &d->cfg, &err) != 0) {
		struct buf b = BUF_INIT;

		config_err_format(&err, &b);
		add(d, DOC_FAIL, "config", buf_detach(&b, NULL),
		    xasprintf("edit %s at that place (`watchd config check` says the same)", path));
		return;
	}
	d->cfg_ok = true;
	add(d, DOC_OK, "config", xasprintf("%s: valid, %zu gate%s", path, d->cfg.ngates,
	    d->cfg.ngates == 1 ? "" : "s"), NULL);
}

/* ---- gates' tools ---------------------------------------------------------- */

/* One version probe, shared by the gates whose probe argv is the same. */
struct probe {
	struct spawn_result	 res;		/* copied from the callback */
	char			*text;		/* first line of its output */
	bool			 done;
};

static void on_probe(struct spawn_result *res, void *arg)
{
	struct probe *p = arg;
	const char *text = res->out.len ? res->out.buf : res->err.buf;

	p->res = *res;
	memset(&p->res.out, 0, sizeof(p->res.out));
	memset(&p->res.err, 0, sizeof(p->res.err));
	p->text = xstrndup(text, strcspn(text, "\r\n"));
	p->done = true;
}

static int probe_timeout_s(void)
{
	const char *e = getenv("WATCHD_TEST_PROBE_TIMEOUT_S");	/* test hook */

	return e && atoi(e) > 0 ? atoi(e) : PROBE_TIMEOUT_S;
}

/* The program a gate runs: argv[0] of a one-file batch. malloc'ed or NULL. */
static char *gate_program(const struct gate *g, const char *root)
{
	struct strvec argv = STRVEC_INIT;
	const char *files[1] = { "x" };
	char *prog = NULL;

	if (g->ops->argv(g, root, files, 1, "report", &argv) == 0 && argv.n)
		prog = xstrdup(argv.v[0]);
	strvec_clear(&argv);
	return prog;
}

static void check_gates(struct doctor *d)
{
	struct hmap probes = HMAP_INIT;		/* joined argv -> struct probe */
	char **keys = NULL, **paths = NULL;
	uv_loop_t loop;
	bool loop_ok = uv_loop_init(&loop) == 0;
	size_t ng = d->cfg_ok ? d->cfg.ngates : 0;
	int timeout = probe_timeout_s();

	if (!d->cfg_ok) {
		add(d, DOC_INFO, "gates", xstrdup("not checked: the config does not load"), NULL);
		if (loop_ok)
			uv_loop_close(&loop);
		return;
	}
	keys = xcalloc(ng + 1, sizeof(*keys));
	paths = xcalloc(ng + 1, sizeof(*paths));
	/* start every probe, then wait for them all at once */
	for (size_t i = 0; i < ng; i++) {
		const struct gate *g = &d->cfg.gates[i];
		struct strvec argv = STRVEC_INIT;
		char *prog = gate_program(g, d->ctx->root);

		paths[i] = prog ? spawn_which(prog, getenv("PATH"), d->ctx->root) : NULL;
		free(prog);
		if (paths[i] == NULL || g->ops->version_argv == NULL || !loop_ok ||
		    g->ops->version_argv(g, &argv) != 0 || argv.n == 0) {
			strvec_clear(&argv);
			continue;
		}
		{
			char *vprog = spawn_which(argv.v[0], getenv("PATH"), d->ctx->root);
			struct buf k = BUF_INIT;

			for (size_t j = 0; j < argv.n; j++) {
				buf_addstr(&k, argv.v[j]);
				buf_addch(&k, '\x1f');	/* no argument holds it */
			}
			keys[i] = buf_detach(&k, NULL);
			if (vprog && hmap_gets(&probes, keys[i]) == NULL) {
				struct probe *p = xcalloc(1, sizeof(*p));
				struct spawn_opts so = { 0 };

				free(argv.v[0]);
				argv.v[0] = vprog;
				vprog = NULL;
				so.cwd = d->ctx->root;
				so.argv = argv.v;
				so.timeout_s = timeout;
				so.cap = 4096;
				hmap_puts(&probes, keys[i], p);
				spawn_start(&loop, &so, on_probe, p, NULL);
			}
			free(vprog);
		}
		strvec_clear(&argv);
	}
	if (loop_ok) {
		uv_run(&loop, UV_RUN_DEFAULT);
		uv_loop_close(&loop);
	}
	for (size_t i = 0; i < ng; i++) {
		const struct gate *g = &d->cfg.gates[i];
		const char *hint = g->ops->install_hint ? g->ops->install_hint : "install it";
		char *name = xasprintf("gate %s", g->name);
		char *prog = gate_program(g, d->ctx->root);
		struct probe *p = keys[i] ? hmap_gets(&probes, keys[i]) : NULL;

		if (paths[i] == NULL) {
			add(d, DOC_FAIL, name, xasprintf("%s not found on PATH", prog ? prog : g->type),
			    xstrdup(hint));
		} else if (p == NULL) {
			add(d, DOC_OK, name, xasprintf("%s found at %s (a %s gate has no version "
			    "probe)", prog ? prog : g->type, paths[i], g->type), NULL);
		} else if (!p->done || p->res.spawn_error) {
			add(d, DOC_FAIL, name, xasprintf("%s found at %s, but its version probe did not "
			    "start: %s", prog ? prog : g->type, paths[i], p->done ? uv_strerror(p->res.spawn_error) : "unknown error"),
			    xstrdup(hint));
		} else if (p->res.timed_out) {
			add(d, DOC_WARN, name, xasprintf("%s found at %s, but its version probe "
			    "did not answer within %d s (killed)", prog ? prog : g->type, paths[i],
			    timeout),
			    xasprintf("check that `%s` runs by hand; a tool this slow also slows "
			    "every run", paths[i]));
		} else if (p->res.term_signal || p->res.exit_code != 0 || !*p->text) {
			char sig[32];

			snprintf(sig, sizeof(sig), p->res.term_signal ? "signal %d" : "exit %d",
			    p->res.term_signal ? p->res.term_signal : p->res.exit_code);
			add(d, DOC_FAIL, name, xasprintf("%s found at %s, but its version probe "
			    "failed (%s%s%s)", prog ? prog : g->type, paths[i], sig, *p->text ? ": " : "", p->text), xstrdup(hint));
		} else {
			/* pwsh's probe answers for the module: say whose version */
			const char *base = strrchr(paths[i], '/') + 1;
			bool own = strncmp(g->type, base, strlen(base)) == 0;

			add(d, DOC_OK, name, xasprintf("%s found at %s, %s%sversion: %s",
			    prog ? prog : g->type, paths[i], own ? "" : g->type, own ? "" : " ",
			    p->text), NULL);
		}
		free(prog);
		free(name);
	}
	if (ng == 0)
		add(d, DOC_INFO, "gates", xstrdup("the config has no gates: nothing is checked"),
		    xstrdup("add gates to the config (`watchd init --dry-run` suggests some)"));
	{
		size_t it = 0;
		struct hmap_slot *s;

		while ((s = hmap_next(&probes, &it)) != NULL) {
			struct probe *p = s->val;

			free(p->text);
			free(p);
		}
	}
	hmap_release(&probes);
	for (size_t i = 0; i < ng; i++) {
		free(keys[i]);
		free(paths[i]);
	}
	free(keys);
	free(paths);
}

/* ---- ledger ---------------------------------------------------------------- */

static void human_size(long long n, char out[32])
{
	if (n < 10 * 1024)
		snprintf(out, 32, "%lld bytes", n);
	else if (n < 10LL * 1024 * 1024)
		snprintf(out, 32, "%lld KiB", n / 1024);
	else
		snprintf(out, 32, "%lld MiB", n / (1024 * 1024));
}

static void check_ledger(struct doctor *d)
{
	const char *path = d->ctx->ledger_path;
	struct wd_err err = { 0, "" };
	struct ledger *l = NULL;
	struct stat st, wal;
	char size[32], *walp, *aside;
	long long bytes;
	int rc, schema;

	if (stat(path, &st) < 0) {
		add(d, DOC_INFO, "ledger", xasprintf("%s: not created yet (the first run or start "
		    "creates it)", path), NULL);
		return;
	}
	walp = xasprintf("%s-wal", path);
	bytes = (long long)st.st_size + (stat(walp, &wal) == 0 ? (long long)wal.st_size : 0);
	free(walp);
	human_size(bytes, size);
	aside = xasprintf("move it aside (mv %s %s.broken); watchd starts a new one at the next "
	    "run, losing the history", path, path);
	if ((rc = ledger_open(path, LEDGER_READ, &l, &err)) != 0) {
		if (rc == -ENOENT)
			add(d, DOC_INFO, "ledger", xasprintf("%s: empty (%s)", path, size), NULL);
		else
			add(d, DOC_FAIL, "ledger", xasprintf("%s (%s)", err.msg, size),
			    rc == WD_ELEDGER_NEWER ? xstrdup("upgrade watchd") : xstrdup(aside));
		goto out;
	}
	schema = ledger_schema(l);
	if ((rc = ledger_quick_check(l, &err)) != 0) {
		add(d, DOC_FAIL, "ledger", xasprintf("%s (%s, schema %d)", err.msg, size, schema),
		    xstrdup(aside));
		goto out;
	}
	if (schema < LEDGER_SCHEMA)
		add(d, DOC_OK, "ledger", xasprintf("%s: quick_check ok, %s, schema %d (this watchd "
		    "writes %d: upgraded in place at the next run or start)", path, size, schema,
		    LEDGER_SCHEMA), NULL);
	else
		add(d, DOC_OK, "ledger", xasprintf("%s: quick_check ok, %s, schema %d (current)",
		    path, size, schema), NULL);
out:
	free(aside);
	ledger_close(l);
}

/* ---- socket directory ------------------------------------------------------- */

static void check_socket_dir(struct doctor *d)
{
	char *dir = ipc_runtime_path();
	struct stat st;
	uid_t me = getuid();

	if (lstat(dir, &st) < 0) {
		add(d, DOC_INFO, "socket-dir", xasprintf("%s: not created yet (start creates it, "
		    "mode 0700)", dir), NULL);
	} else if (!S_ISDIR(st.st_mode)) {
		add(d, DOC_FAIL, "socket-dir", xasprintf("%s is not a directory%s", dir,
		    S_ISLNK(st.st_mode) ? " (a symlink)" : ""), xasprintf("remove it (rm %s); "
		    "start makes the directory", dir));
	} else if (st.st_uid != me) {
		add(d, DOC_FAIL, "socket-dir", xasprintf("%s belongs to uid %u, not to you (uid %u): "
		    "watchd refuses it", dir, (unsigned)st.st_uid, (unsigned)me),
		    xasprintf("have it removed (sudo rm -r %s), or set XDG_RUNTIME_DIR to a "
		    "directory of yours", dir));
	} else if (st.st_mode & 077) {
		add(d, DOC_FAIL, "socket-dir", xasprintf("%s has mode %04o: other users may reach "
		    "or replace the socket, and watchd refuses it", dir,
		    (unsigned)(st.st_mode & 07777)), xasprintf("chmod 700 %s", dir));
	} else {
		add(d, DOC_OK, "socket-dir", xasprintf("%s: yours (uid %u), mode %04o", dir,
		    (unsigned)me, (unsigned)(st.st_mode & 07777)), NULL);
	}
	free(dir);
}

/* ---- git hooks ----------------------------------------------------------------- */

/* The value of a shell word starting at *p (quotes and backslashes
 * removed); *p moves past it. malloc'ed. */
static char *sh_word(const char **p)
{
	struct buf b = BUF_INIT;
	const char *s = *p;

	while (*s && *s != ' ' && *s != '\t' && *s != '\n' && *s != ';') {
		if (*s == '\'') {
			for (s++; *s && *s != '\''; s++)
				buf_addch(&b, *s);
			if (*s)
				s++;
		} else if (*s == '"') {
			for (s++; *s && *s != '"'; s++) {
				if (*s == '\\' && s[1])
					s++;
				buf_addch(&b, *s);
			}
			if (*s)
				s++;
		} else {
			if (*s == '\\' && s[1])
				s++;
			buf_addch(&b, *s++);
		}
	}
	*p = s;
	return buf_detach(&b, NULL);
}

/* The watchd binary a hook of ours runs: the value of its `watchd=`
 * assignment, else the first absolute path in it that names a watchd.
 * malloc'ed or NULL. */
static char *hook_binary(const char *script)
{
	for (const char *line = script; line && *line; ) {
		const char *p = line + strspn(line, " \t");

		if (strncmp(p, "watchd=", 7) == 0) {
			p += 7;
			return sh_word(&p);
		}
		line = strchr(line, '\n');
		if (line)
			line++;
	}
	for (const char *p = script; *p; ) {
		const char *q = p;
		char *w;

		if (*p == ' ' || *p == '\t' || *p == '\n' || *p == ';' || *p == '=') {
			p++;
			continue;
		}
		w = sh_word(&p);
		if (p == q)
			p++;
		if (w[0] == '/') {
			const char *base = strrchr(w, '/') + 1;

			if (strncmp(base, "watchd", 6) == 0)
				return w;
		}
		free(w);
	}
	return NULL;
}

/* Hooks of the same name kept beside ours (pre-commit.local): those the
 * script names, and those it does not (kept aside, not run). */
static void hook_chain(const char *dir, const char *name, const char *script, struct buf *out,
    enum doc_status *st)
{
	struct strvec named = STRVEC_INIT;
	size_t nl = strlen(name);

	for (const char *p = strstr(script, name); p; p = strstr(p + 1, name)) {
		size_t n;

		if (p[nl] != '.')
			continue;
		n = strspn(p + nl + 1, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "0123456789_-");
		if (n && !(n == 6 && strncmp(p + nl + 1, "sample", 6) == 0))
			strvec_pushn(&named, p, nl + 1 + n);
	}
	strvec_sort_uniq(&named);
	for (size_t i = 0; i < named.n; i++) {
		char *f = xasprintf("%s/%s", dir, named.v[i]);

		if (access(f, F_OK) != 0) {
			/* named but absent: the script runs it only when present */
		} else if (access(f, X_OK) != 0) {
			buf_addf(out, "; chained %s is not executable, so it does not run",
			    named.v[i]);
			if (*st < DOC_WARN)
				*st = DOC_WARN;
		} else
			buf_addf(out, "; chained: also runs %s", named.v[i]);
		free(f);
	}
	{
		char *local = xasprintf("%s/%s.local", dir, name), *base = strrchr(local, '/') + 1;

		if (access(local, F_OK) == 0 && strvec_find(&named, base) < 0)
			buf_addf(out, "; an earlier hook is kept aside as %s (not run)", base);
		free(local);
	}
	strvec_clear(&named);
}

static void check_hook(struct doctor *d, const char *dir, const char *name, bool wanted)
{
	char *path = xasprintf("%s/%s", dir, name), *label = xasprintf("hook %s", name);
	char *bin = NULL, *fix = NULL;
	struct buf script = BUF_INIT, detail = BUF_INIT;
	enum doc_status st = DOC_OK;

	if (access(path, F_OK) != 0) {
		if (wanted)
			add(d, DOC_INFO, label, xasprintf("not installed (%s)", path),
			    xstrdup("watchd hook install"));
		goto out;
	}
	if (buf_read_file(&script, path, 1 << 20) != 0 ||
	    strstr(script.buf, "installed by watchd") == NULL) {
		/* someone else's commit-msg hook (Gerrit's Change-Id) is none
		 * of our business unless a gate wants ours there */
		if (!wanted)
			goto out;
		add(d, DOC_INFO, label, xasprintf("%s is not watchd's", path),
		    xasprintf("watchd hook install --force (keeps this one as %s.local)", name));
		goto out;
	}
	buf_addf(&detail, "installed (%s)", path);
	if (access(path, X_OK) != 0) {
		buf_addstr(&detail, ", but not executable: git skips it");
		st = DOC_FAIL;
		fix = xstrdup("watchd hook install");
	}
	bin = hook_binary(script.buf);
	if (bin == NULL || bin[0] != '/') {
		char *found = spawn_which("watchd", getenv("PATH"), NULL);

		if (found)
			buf_addf(&detail, ", runs watchd from PATH (%s)", found);
		else {
			buf_addstr(&detail, ", runs watchd from PATH, where there is none");
			st = DOC_FAIL;
			free(fix);
			fix = xstrdup("make install (or put watchd on PATH), then watchd hook install");
		}
		free(found);
	} else if (access(bin, X_OK) == 0) {
		buf_addf(&detail, ", runs %s", bin);
	} else {
		char *found = spawn_which("watchd", getenv("PATH"), NULL);

		buf_addf(&detail, ", points at %s, which %s", bin, access(bin, F_OK) == 0 ?
		    "is not executable" : "does not exist");
		if (found) {
			buf_addf(&detail, "; falls back to watchd on PATH (%s)", found);
			if (st < DOC_WARN)
				st = DOC_WARN;
		} else
			st = DOC_FAIL;
		free(found);
		free(fix);
		fix = xstrdup("watchd hook install (points the hook at this watchd)");
	}
	hook_chain(dir, name, script.buf, &detail, &st);
	if (st == DOC_WARN && fix == NULL)
		fix = xasprintf("chmod +x the chained hook in %s", dir);
	add(d, st, label, buf_detach(&detail, NULL), fix);
	fix = NULL;
out:
	free(fix);
	free(bin);
	buf_release(&script);
	buf_release(&detail);
	free(label);
	free(path);
}

static void check_hooks(struct doctor *d)
{
	char *dir;
	bool msg_gate = false;

	if (d->repo == NULL) {
		add(d, DOC_INFO, "hook", xasprintf("%s is not a git work tree: no hook to check",
		    d->ctx->root), NULL);
		return;
	}
	for (size_t i = 0; d->cfg_ok && i < d->cfg.ngates; i++)
		if (strcmp(d->cfg.gates[i].type, "commit-msg") == 0)
			msg_gate = true;
	dir = repo_hooks_dir(d->repo);
	check_hook(d, dir, "pre-commit", true);
	check_hook(d, dir, "commit-msg", msg_gate);
	free(dir);
}

/* ---- output ---------------------------------------------------------------- */

static void print_text(const struct doctor *d, int nfail, int nwarn)
{
	for (size_t i = 0; i < d->n; i++) {
		const struct check *c = &d->v[i];

		printf("%-5s ", status_names[c->status]);
		fputs(c->name, stdout);
		fputs(": ", stdout);
		fputs(c->detail, stdout);
		if (c->fix) {
			fputs("; fix: ", stdout);
			fputs(c->fix, stdout);
		}
		putchar('\n');
	}
	if (nfail)
		printf("doctor: %d problem%s, %d warning%s\n", nfail, nfail == 1 ? "" : "s", nwarn,
		    nwarn == 1 ? "" : "s");
	else if (nwarn)
		printf("doctor: no problems, %d warning%s\n", nwarn, nwarn == 1 ? "" : "s");
	else
		printf("doctor: all well\n");
	fflush(stdout);
}

static void print_json(const struct doctor *d, int nfail)
{
	cJSON *o = cJSON_CreateObject(), *arr = cJSON_CreateArray();

	cJSON_AddBoolToObject(o, "ok", nfail == 0);
	cJSON_AddItemToObject(o, "checks", arr);
	for (size_t i = 0; i < d->n; i++) {
		const struct check *c = &d->v[i];
		cJSON *e = cJSON_CreateObject();

		cJSON_AddStringToObject(e, "name", c->name);
		cJSON_AddStringToObject(e, "status", status_names[c->status]);
		cJSON_AddStringToObject(e, "detail", c->detail);
		cJSON_AddItemToObject(e, "fix", c->fix ? cJSON_CreateString(c->fix) :
		    cJSON_CreateNull());
		cJSON_AddItemToArray(arr, e);
	}
	cli_print_json(o, false);
	cJSON_Delete(o);
}

/* ---- the remote cache ----------------------------------------------- */

struct remote_probe {
	int	 found;		/* the read's answer: 1, 0 (404), -1 */
	bool	 done;
	char	*warned;	/* what the client said, or NULL */
};

static void on_remote_warn(void *arg, const char *msg)
{
	struct remote_probe *p = arg;

	if (p->warned == NULL)
		p->warned = xstrdup(msg);
}

static void on_remote_got(void *arg, struct remote_reply *rep, size_t n)
{
	struct remote_probe *p = arg;

	p->found = n ? rep[0].found : -1;
	p->done = true;
}

/* Reads an entry nobody stores (a miss is the healthy answer) and, when
 * writing is on, stores a small content-addressed blob, which is harmless
 * to any reader. The back-off is not consulted: doctor always asks. */
static void check_remote(struct doctor *d)
{
	static const char probe[] = "watchd doctor probe\n";
	struct remote_opts ro;
	struct remote_probe p = { .found = -1 };
	struct remote *r;
	const char *why = NULL, *name = "ac/0000000000000000000000000000000000000000000000000000000000000000";
	char sum[SHA256_HEX + 1], *cas;
	struct buf data = BUF_INIT;
	uv_loop_t loop;
	uint64_t t0;

	if (!d->cfg_ok || !remote_settings(&d->cfg, &ro))
		return;
	if (uv_loop_init(&loop) != 0)
		return;
	if ((r = remote_new(&loop, &ro, on_remote_warn, &p, &why)) == NULL) {
		add(d, DOC_FAIL, "remote cache", xasprintf("%s: %s", ro.url, why),
		    xstrdup("set remote_cache.url (or WATCHD_REMOTE_CACHE_URL) to the server's "
		    "http(s) URL"));
		uv_loop_close(&loop);
		return;
	}
	t0 = uv_now(&loop);
	remote_get(r, NULL, &name, 1, on_remote_got, &p);
	while (!p.done && uv_run(&loop, UV_RUN_ONCE))
		;
	if (p.found >= 0 && ro.write) {
		buf_addstr(&data, probe);
		sha256_hex(probe, sizeof(probe) - 1, sum);
		cas = xasprintf("cas/%s", sum);
		remote_put(r, NULL, cas, &data);
		free(cas);
		remote_flush(r, &loop, true);
	}
	if (p.found < 0 || p.warned)
		add(d, DOC_WARN, "remote cache", p.warned ? xstrdup(p.warned) :
		    xasprintf("%s: no answer", remote_url(r)),
		    xstrdup("until it answers, every result is judged here (see README: "
		    "Remote cache)"));
	else
		add(d, DOC_OK, "remote cache", xasprintf("%s answers in %llu ms (%s%s%s)",
		    remote_url(r), (unsigned long long)(uv_now(&loop) - t0),
		    ro.read ? "read" : "no read", ro.write ? ", write: an upload was stored" : "",
		    ro.token ? ", with a token" : ""), NULL);
	remote_free(r);
	uv_run(&loop, UV_RUN_DEFAULT);
	uv_loop_close(&loop);
	free(p.warned);
}

static int cmd_doctor_exec(struct cli_ctx *ctx, const struct args *args)
{
	struct doctor d;
	int nfail = 0, nwarn = 0;

	memset(&d, 0, sizeof(d));
	d.ctx = ctx;
	d.repo = repo_open(ctx->root);
	probe_daemon(&d);
	check_config(&d);
	{
		/* the limits come first in the report, though they need the
		 * config's ignore list: move them to the front */
		size_t before = d.n;

		check_inotify(&d);
		if (d.n > before) {
			struct check *moved = xmalloc((d.n - before) * sizeof(*moved));
			size_t k = d.n - before;

			memcpy(moved, d.v + before, k * sizeof(*moved));
			memmove(d.v + k, d.v, before * sizeof(*moved));
			memcpy(d.v, moved, k * sizeof(*moved));
			free(moved);
		}
	}
	check_gates(&d);
	check_ledger(&d);
	check_remote(&d);
	check_socket_dir(&d);
	check_hooks(&d);
	add(&d, d.daemon_status, "daemon", d.daemon_detail, d.daemon_fix);
	d.daemon_detail = d.daemon_fix = NULL;

	for (size_t i = 0; i < d.n; i++) {
		nfail += d.v[i].status == DOC_FAIL;
		nwarn += d.v[i].status == DOC_WARN;
	}
	if (args_has(args, "json"))
		print_json(&d, nfail);
	else
		print_text(&d, nfail, nwarn);

	for (size_t i = 0; i < d.n; i++) {
		free(d.v[i].name);
		free(d.v[i].detail);
		free(d.v[i].fix);
	}
	free(d.v);
	if (d.cfg_ok)
		config_release(&d.cfg);
	repo_close(d.repo);
	return nfail ? WD_EXIT_FAIL : WD_EXIT_OK;
}
