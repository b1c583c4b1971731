/* "type": "command" — any tool, given as an argv template. The template is
 * never handed to a shell: {files} expands to one element per file, {file}
 * runs one process per file, {root} is ROOT and {report} a fresh temporary
 * file the tool writes its report to. The output is read by the parser the
 * gate names (exit, gcc, sarif, junit). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gate.h"
#include "lib/buf.h"
#include "lib/jsonget.h"
#include "lib/xmalloc.h"
#include "parser.h"

static const char *const command_keys[] = { "command", "parser", NULL };

/* Checks the {name} placeholders of one argument of the template: only
 * {files} (a whole argument), {file}, {root} and {report} exist, and the
 * program (argv[0]) must be named, not a placeholder (bar a leading {root}).
 * Sets *files / *file when the argument uses them. 0 when fine, else -1
 * with msg filled. Any "{word}" counts as a placeholder; other braces are
 * plain text. */
static int check_placeholders(const char *a, bool program, bool *files, bool *file,
    char *msg, size_t msz)
{
	for (const char *p = strchr(a, '{'); p; p = strchr(p + 1, '{')) {
		size_t n = strspn(p + 1, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_");

		if (n == 0 || p[1 + n] != '}')
			continue;
		if (n == 5 && strncmp(p + 1, "files", 5) == 0) {
			if (strcmp(a, "{files}") != 0) {
				snprintf(msg, msz, "{files} must be a whole argument");
				return -1;
			}
			*files = true;
		} else if (n == 4 && strncmp(p + 1, "file", 4) == 0) {
			*file = true;
		} else if (!(n == 4 && strncmp(p + 1, "root", 4) == 0) &&
		    !(n == 6 && strncmp(p + 1, "report", 6) == 0)) {
			snprintf(msg, msz, "unknown placeholder {%.*s} (known: {files}, {file}, "
			    "{root}, {report})", (int)(n > 40 ? 40 : n), p + 1);
			return -1;
		}
		if (program && !(p == a && n == 4 && strncmp(p + 1, "root", 4) == 0)) {
			snprintf(msg, msz, "the program must be named, not a placeholder (only a "
			    "leading {root} is allowed, as in \"{root}/scripts/lint\")");
			return -1;
		}
	}
	return 0;
}

static int command_configure(struct gate *g, const cJSON *obj, const char *path,
    struct jsonget_err *err)
{
	const struct output_parser *p;
	char kp[256];
	int rc;

	if (!cJSON_GetObjectItemCaseSensitive(obj, "command"))
		return jsonget_err_set(err, path, "a command gate needs \"command\" (an argv array)");
	if ((rc = jsonget_strings(obj, path, "command", 0, &g->command, err)) != 0)
		return rc;
	if (g->command.n == 0 || g->command.v[0][0] == '\0') {
		jsonget_path(kp, sizeof(kp), path, "command");
		return jsonget_err_set(err, kp, "must name a program");
	}
	if ((rc = jsonget_string(obj, path, "parser", &g->parser, err)) != 0)
		return rc;
	if (g->parser == NULL)
		g->parser = xstrdup("exit");
	p = parser_find(g->parser);
	if (p == NULL) {
		jsonget_path(kp, sizeof(kp), path, "parser");
		return jsonget_err_set(err, kp, "unknown parser \"%s\" (known: %s)", g->parser,
		    parser_names());
	}
	/* a test runner's verdict depends on more than the files it is given */
	if (strcmp(g->parser, "junit") == 0)
		g->tests = true;
	g->batching = GATE_BATCH_NONE;
	for (size_t i = 0; i < g->command.n; i++) {
		const char *a = g->command.v[i];
		bool files = false, file = false;
		char why[160];

		snprintf(kp, sizeof(kp), "%s.command[%zu]", path, i);
		if (check_placeholders(a, i == 0, &files, &file, why, sizeof(why)) != 0)
			return jsonget_err_set(err, kp, "%s", why);
		if (files && g->batching == GATE_BATCH_FILES)
			return jsonget_err_set(err, kp, "{files} may appear only once");
		if ((files && g->batching == GATE_BATCH_ONE) ||
		    (file && g->batching == GATE_BATCH_FILES))
			return jsonget_err_set(err, kp, "{files} and {file} cannot both be used: "
			    "{files} passes the batch to one process, {file} runs one process "
			    "per file");
		if (files)
			g->batching = GATE_BATCH_FILES;
		else if (file)
			g->batching = GATE_BATCH_ONE;
		if (strstr(a, "{report}"))
			g->wants_report = true;
	}
	return 0;
}

/* Replaces every {name} in tmpl (configure let only known ones through). */
static char *expand(const char *tmpl, const char *file, const char *root, const char *report)
{
	struct buf b = BUF_INIT;
	static const struct { const char *key; size_t len; } keys[] = {
		{ "{file}", 6 }, { "{root}", 6 }, { "{report}", 8 },
	};

	for (const char *p = tmpl; *p;) {
		size_t k;

		for (k = 0; k < sizeof(keys) / sizeof(*keys); k++)
			if (strncmp(p, keys[k].key, keys[k].len) == 0)
				break;
		if (k < sizeof(keys) / sizeof(*keys)) {
			const char *val = k == 0 ? file : k == 1 ? root : report;

			buf_addstr(&b, val ? val : "");
			p += keys[k].len;
		} else
			buf_addch(&b, *p++);
	}
	return buf_detach(&b, NULL);
}

/* A name that starts with '-' would be read as an option: "./-x" is not. */
void gate_push_path(struct strvec *argv, const char *path)
{
	if (path[0] == '-')
		strvec_pushf(argv, "./%s", path);
	else
		strvec_push(argv, path);
}

static int command_argv(const struct gate *g, const char *root, const char *const *files,
    size_t n, const char *report, struct strvec *argv)
{
	char *safe_file = NULL;

	if (g->batching == GATE_BATCH_ONE && n > 0)
		safe_file = files[0][0] == '-' ? xasprintf("./%s", files[0]) : xstrdup(files[0]);
	for (size_t i = 0; i < g->command.n; i++) {
		const char *a = g->command.v[i];

		if (strcmp(a, "{files}") == 0) {
			for (size_t j = 0; j < n; j++)
				gate_push_path(argv, files[j]);
			continue;
		}
		strvec_push_owned(argv, expand(a, safe_file, root, report));
	}
	free(safe_file);
	return 0;
}

static int command_parse(const struct gate *g, const struct gate_output *out, struct gate_result *r)
{
	const struct output_parser *p = parser_find(g->parser ? g->parser : "exit");

	return p->parse(g, out, r);
}

const struct gate_ops gate_command = {
	.type = "command",
	.keys = command_keys,
	.configure = command_configure,
	.argv = command_argv,
	.parse = command_parse,
	.install_hint = "install it, or fix \"command\" in the gate",
};
