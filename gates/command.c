/* "type": "command" — any tool, given as an argv template. The template is
 * never handed to a shell: {files} expands to one element per file, {file}
 * runs one process per file, {root} is ROOT and {report} a fresh temporary
 * file the tool writes its report to. The output is read by the parser the
 * gate names (exit, gcc, sarif, junit). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "config/config.h"
#include "gate.h"
#include "parser.h"
#include "xmalloc.h"

static const char *const command_keys[] = { "command", "parser", NULL };

static int command_configure(struct gate *g, const cJSON *obj, struct config_err *err)
{
	char prefix[64];
	const struct output_parser *p;
	int rc;

	snprintf(prefix, sizeof(prefix), "gates[%d]", g->index);
	if (!cJSON_GetObjectItemCaseSensitive(obj, "command"))
		return config_err_set(err, prefix, "a command gate needs \"command\" (an argv array)");
	if ((rc = config_get_strings(obj, "command", prefix, false, &g->command, err)) != 0)
		return rc;
	if (g->command.n == 0 || g->command.v[0][0] == '\0') {
		char kp[80];

		snprintf(kp, sizeof(kp), "%s.command", prefix);
		return config_err_set(err, kp, "must name a program");
	}
	if ((rc = config_get_string(obj, "parser", prefix, &g->parser, err)) != 0)
		return rc;
	if (g->parser == NULL)
		g->parser = xstrdup("exit");
	p = parser_find(g->parser);
	if (p == NULL) {
		char kp[80];

		snprintf(kp, sizeof(kp), "%s.parser", prefix);
		return config_err_set(err, kp, "unknown parser \"%s\" (known: %s)", g->parser,
		    parser_names());
	}
	/* a test runner's verdict depends on more than the files it is given */
	if (strcmp(g->parser, "junit") == 0)
		g->tests = true;
	g->batching = GATE_BATCH_NONE;
	for (size_t i = 0; i < g->command.n; i++) {
		const char *a = g->command.v[i];

		if (strcmp(a, "{files}") == 0)
			g->batching = GATE_BATCH_FILES;
		else if (strstr(a, "{files}")) {
			char kp[80];

			snprintf(kp, sizeof(kp), "%s.command[%zu]", prefix, i);
			return config_err_set(err, kp, "{files} must be a whole argument");
		} else if (strstr(a, "{file}") && g->batching != GATE_BATCH_FILES)
			g->batching = GATE_BATCH_ONE;
		if (strstr(a, "{report}"))
			g->wants_report = true;
	}
	return 0;
}

/* Replaces every {name} in tmpl; unknown placeholders stay as written. */
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
