/* watchd service install|uninstall|print: the systemd user unit for ROOT.
 * One template (contrib/systemd/watchd@.service, compiled in) serves every
 * tree; the instance name is ROOT escaped as `systemd-escape --path` does.
 * install writes the template with this binary's path into the user unit
 * directory and enables the instance with `systemctl --user`; where that
 * cannot run, it says exactly what to run instead. */
#include <errno.h>
#include <glob.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "lib/buf.h"
#include "lib/sdnotify.h"
#include "lib/xmalloc.h"
#include "unit-template.h"

#define UNIT_FILE	"watchd@.service"

static int cmd_service_exec(struct cli_ctx *, const struct args *);

const struct cmd_entry cmd_service_entry = {
	.name = "service",
	.usage = "install|uninstall|print",
	.help = "the systemd user unit that keeps watchd running for ROOT",
	.flags = CMD_ROOT,
	.args = {
		.lower = 1,
		.upper = 1,
		.missing = "install, uninstall or print?",
	},
	.exec = cmd_service_exec,
};

static char *bindir(void)
{
	char buf[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
	char *slash;

	if (n <= 0)
		return xstrdup("/usr/local/bin");
	buf[n] = '\0';
	slash = strrchr(buf, '/');
	*slash = '\0';
	return xstrdup(buf[0] ? buf : "/");
}

/* The template with @bindir@ filled in. Caller frees. */
static char *unit_text(void)
{
	struct buf b = BUF_INIT;
	const char *p = unit_template, *at;
	char *dir = bindir();

	while ((at = strstr(p, "@bindir@")) != NULL) {
		buf_add(&b, p, (size_t)(at - p));
		buf_addstr(&b, dir);
		p = at + strlen("@bindir@");
	}
	buf_addstr(&b, p);
	free(dir);
	return buf_detach(&b, NULL);
}

/* $XDG_CONFIG_HOME/systemd/user, else ~/.config/systemd/user. Caller
 * frees; NULL when neither is known. */
static char *unit_dir(void)
{
	const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");

	if (xdg && xdg[0] == '/')
		return xasprintf("%s/systemd/user", xdg);
	if (home && home[0] == '/')
		return xasprintf("%s/.config/systemd/user", home);
	return NULL;
}

static int mkdirs(const char *path)
{
	char *p = xstrdup(path);
	int rc = 0;

	for (char *s = p + 1; ; s++) {
		if (*s == '/' || *s == '\0') {
			char c = *s;

			*s = '\0';
			if (mkdir(p, 0755) < 0 && errno != EEXIST) {
				rc = -errno;
				break;
			}
			if ((*s = c) == '\0')
				break;
		}
	}
	free(p);
	return rc;
}

/* Runs systemctl --user ARGS with its output passed through. 0 when it
 * ran and succeeded; -1 when it could not run or failed. */
static int systemctl(const char *a1, const char *a2, const char *a3)
{
	pid_t pid;
	int st;

	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		execlp("systemctl", "systemctl", "--user", a1, a2, a3, (char *)NULL);
		_exit(127);
	}
	if (waitpid(pid, &st, 0) < 0)
		return -1;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

static bool have_systemctl(void)
{
	const char *path = getenv("PATH");
	char *copy, *dir, *save = NULL;
	bool found = false;

	if (path == NULL)
		return false;
	copy = xstrdup(path);
	for (dir = strtok_r(copy, ":", &save); dir && !found; dir = strtok_r(NULL, ":", &save)) {
		char *cand = xasprintf("%s/systemctl", dir[0] ? dir : ".");

		found = access(cand, X_OK) == 0;
		free(cand);
	}
	free(copy);
	return found;
}

static int write_file(const char *path, const char *text)
{
	char *tmp = xasprintf("%s.tmp", path);
	FILE *fp = fopen(tmp, "w");
	int rc = 0;

	if (fp == NULL) {
		rc = -errno;
	} else {
		fputs(text, fp);
		if (fclose(fp) != 0 || rename(tmp, path) != 0)
			rc = -errno;
	}
	if (rc)
		unlink(tmp);
	free(tmp);
	return rc;
}

static int service_install(const char *root, const char *instance, const char *dir)
{
	char *path = xasprintf("%s/%s", dir, UNIT_FILE), *text = unit_text();
	int n, rc = WD_EXIT_OK;

	if ((n = mkdirs(dir)) != 0 || (n = write_file(path, text)) != 0) {
		cli_error("cannot write %s: %s", path, strerror(-n));
		rc = WD_EXIT_RUNTIME;
		goto out;
	}
	printf("wrote %s\n", path);
	if (!have_systemctl()) {
		struct buf q = BUF_INIT;

		/* single-quoted for sh, a quote in the path included */
		for (const char *c = root; *c; c++)
			buf_addstr(&q, *c == '\'' ? "'\\''" : (char[]){ *c, '\0' });
		printf("systemd is not installed here: nothing was enabled.\n"
		    "Start watchd from your session's start-up instead:\n"
		    "  watchd --root '%s' start\n", q.buf);
		buf_release(&q);
		rc = WD_EXIT_RUNTIME;
		goto out;
	}
	if (systemctl("daemon-reload", NULL, NULL) != 0 ||
	    systemctl("enable", "--now", instance) != 0) {
		printf("systemctl --user could not enable it (no user session manager?).\n"
		    "In a login session, run:\n"
		    "  systemctl --user daemon-reload\n"
		    "  systemctl --user enable --now %s\n", instance);
		rc = WD_EXIT_RUNTIME;
		goto out;
	}
	printf("enabled and started %s\n", instance);
out:
	free(text);
	free(path);
	return rc;
}

/* True when some other instance of the template is still enabled. */
static bool other_instances(const char *dir, const char *instance)
{
	char *pat = xasprintf("%s/*.wants/watchd@*.service", dir);
	glob_t g;
	bool found = false;

	if (glob(pat, 0, NULL, &g) == 0) {
		for (size_t i = 0; i < g.gl_pathc && !found; i++) {
			const char *base = strrchr(g.gl_pathv[i], '/') + 1;

			found = strcmp(base, instance) != 0;
		}
		globfree(&g);
	}
	free(pat);
	return found;
}

static int service_uninstall(const char *instance, const char *dir)
{
	char *path = xasprintf("%s/%s", dir, UNIT_FILE);
	char *link = xasprintf("%s/default.target.wants/%s", dir, instance);
	int rc = WD_EXIT_OK;

	if (have_systemctl() && systemctl("disable", "--now", instance) != 0) {
		printf("systemctl --user could not disable it (no user session manager?).\n"
		    "In a login session, run:\n  systemctl --user disable --now %s\n", instance);
		rc = WD_EXIT_RUNTIME;
	}
	/* what enable made, even when systemctl could not undo it */
	if (unlink(link) == 0)
		printf("removed %s\n", link);
	if (!other_instances(dir, instance)) {
		if (unlink(path) == 0)
			printf("removed %s\n", path);
		else if (errno != ENOENT) {
			cli_error("cannot remove %s: %s", path, strerror(errno));
			rc = WD_EXIT_RUNTIME;
		}
	}
	free(link);
	free(path);
	return rc;
}

static int cmd_service_exec(struct cli_ctx *ctx, const struct args *args)
{
	const char *what = args->argv[0];
	char *esc = sdnotify_escape_path(ctx->root);
	char *instance = xasprintf("watchd@%s.service", esc);
	char *dir = unit_dir();
	int rc;

	free(esc);
	if (strcmp(what, "print") == 0) {
		char *text = unit_text();

		printf("# %s/%s (instance %s)\n%s", dir ? dir : "~/.config/systemd/user",
		    UNIT_FILE, instance, text);
		free(text);
		rc = WD_EXIT_OK;
	} else if (strcmp(what, "install") != 0 && strcmp(what, "uninstall") != 0) {
		cli_error("service: unknown action '%s' (install, uninstall or print)", what);
		rc = cli_usage(&cmd_service_entry);
	} else if (dir == NULL) {
		cli_error("service: neither XDG_CONFIG_HOME nor HOME is set: no place for the unit");
		rc = WD_EXIT_RUNTIME;
	} else if (strcmp(what, "install") == 0) {
		rc = service_install(ctx->root, instance, dir);
	} else {
		rc = service_uninstall(instance, dir);
	}
	free(dir);
	free(instance);
	return rc;
}
