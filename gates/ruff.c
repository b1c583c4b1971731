/* "type": "ruff" and "ruff-format": `ruff check` with JSON output and
 * `ruff format --check`, both on the batch after "--". Exit codes follow
 * Ruff's documentation: 0 clean, 1 findings, 2 Ruff itself failed. */
#include <stdlib.h>
#include <string.h>

#include "gate.h"
#include "lib/jsonget.h"
#include "lib/xmalloc.h"
#include "parser.h"

static const char *const ruff_keys[] = { "args", NULL };

/* The files Ruff reads its settings from, whatever config_files lists:
 * those it discovers at ROOT (its working directory), and a file given
 * with --config. They join config_files (fingerprint, watched). Ruff also
 * looks in subdirectories and above ROOT; list such files yourself. */
static void ruff_config_files(struct gate *g, const struct strvec *args)
{
	static const char *const found[] = { "pyproject.toml", "ruff.toml", ".ruff.toml", NULL };

	for (size_t i = 0; found[i]; i++)
		gate_add_config_file(g, found[i]);
	for (size_t i = 0; i < args->n; i++) {
		const char *a = args->v[i], *file = NULL;

		if (strcmp(a, "--config") == 0 && i + 1 < args->n)
			file = args->v[++i];
		else if (strncmp(a, "--config=", 9) == 0)
			file = a + 9;
		/* --config also takes inline 'KEY = VALUE' settings */
		if (file && !strchr(file, '=') && file[0] != '/')
			gate_add_config_file(g, file);
	}
}

/* g->priv: the user's extra arguments (struct strvec), put before "--". */
static int ruff_configure(struct gate *g, const cJSON *obj, const char *path,
    struct jsonget_err *err)
{
	struct strvec *args = xcalloc(1, sizeof(*args));
	int rc;

	g->priv = args;
	g->batching = GATE_BATCH_FILES;
	if ((rc = jsonget_strings(obj, path, "args", 0, args, err)) != 0)
		return rc;
	ruff_config_files(g, args);
	return 0;
}

static void ruff_release(struct gate *g)
{
	if (g->priv) {
		strvec_clear(g->priv);
		free(g->priv);
		g->priv = NULL;
	}
}

static void push_tail(const struct gate *g, const char *const *files, size_t n,
    struct strvec *argv)
{
	if (g->priv)
		strvec_pushv(argv, g->priv);
	strvec_push(argv, "--");
	for (size_t i = 0; i < n; i++)
		gate_push_path(argv, files[i]);
}

static int check_argv(const struct gate *g, const char *root, const char *const *files,
    size_t n, const char *report, struct strvec *argv)
{
	(void)root;
	(void)report;
	strvec_push(argv, "ruff");
	strvec_push(argv, "check");
	strvec_push(argv, "--output-format=json");
	strvec_push(argv, "--no-fix");
	/* files named explicitly would otherwise bypass Ruff's own excludes */
	strvec_push(argv, "--force-exclude");
	push_tail(g, files, n, argv);
	return 0;
}

static int format_argv(const struct gate *g, const char *root, const char *const *files,
    size_t n, const char *report, struct strvec *argv)
{
	(void)root;
	(void)report;
	strvec_push(argv, "ruff");
	strvec_push(argv, "format");
	strvec_push(argv, "--check");
	strvec_push(argv, "--force-exclude");
	push_tail(g, files, n, argv);
	return 0;
}

static int ruff_version_argv(const struct gate *g, struct strvec *argv)
{
	(void)g;
	strvec_push(argv, "ruff");
	strvec_push(argv, "--version");
	return 0;
}

/* Exit 2 (or anything unexpected) is Ruff failing, not the code. */
static bool abnormal_exit(const struct gate_output *out, struct gate_result *r)
{
	char *ex;

	if (out->exit_code == 0 || out->exit_code == 1)
		return false;
	ex = out->err_len ? gate_excerpt(out->err, out->err_len) :
	    gate_excerpt(out->out, out->out_len);
	r->status = GATE_ERROR;
	gate_result_msg(r, "ruff exited with status %d: %s", out->exit_code, ex);
	free(ex);
	return true;
}

/* Findings decide; exit 1 without any readable finding still fails. */
static void settle(const struct gate_output *out, struct gate_result *r, const char *what)
{
	if (r->status == GATE_ERROR)
		return;
	if (r->findings.n > 0)
		r->status = GATE_FAIL;
	else if (out->exit_code == 1) {
		char *ex = gate_excerpt(out->out_len ? out->out : out->err,
		    out->out_len ? out->out_len : out->err_len);

		r->status = GATE_FAIL;
		gate_result_msg(r, "ruff %s exited 1 without findings: %s", what, ex);
		free(ex);
	} else
		r->status = GATE_PASS;
}

static int check_parse(const struct gate *g, const struct gate_output *out, struct gate_result *r)
{
	(void)g;
	if (abnormal_exit(out, r) || !gate_output_whole(out, false, r))
		return 0;
	ruff_json_parse(out->root, out->out ? out->out : "", out->out_len, r);
	settle(out, r, "check");
	return 0;
}

static int format_parse(const struct gate *g, const struct gate_output *out,
    struct gate_result *r)
{
	size_t i = 0;

	(void)g;
	if (abnormal_exit(out, r) || !gate_output_whole(out, true, r))
		return 0;
	while (i < out->out_len && (out->out[i] == ' ' || out->out[i] == '\n'))
		i++;
	/* "args": ["--output-format=json"] works since 0.16 */
	if (i < out->out_len && out->out[i] == '[')
		ruff_json_parse(out->root, out->out, out->out_len, r);
	else {
		ruff_format_text_parse(out->root, out->out, out->out_len, r);
		if (r->findings.n == 0)
			ruff_format_text_parse(out->root, out->err, out->err_len, r);
	}
	settle(out, r, "format");
	return 0;
}

const struct gate_ops gate_ruff = {
	.type = "ruff",
	.keys = ruff_keys,
	.configure = ruff_configure,
	.argv = check_argv,
	.parse = check_parse,
	.version_argv = ruff_version_argv,
	.install_hint = "pip install ruff (or: pipx install ruff, uv tool install ruff)",
	.release = ruff_release,
};

const struct gate_ops gate_ruff_format = {
	.type = "ruff-format",
	.keys = ruff_keys,
	.configure = ruff_configure,
	.argv = format_argv,
	.parse = format_parse,
	.version_argv = ruff_version_argv,
	.install_hint = "pip install ruff (or: pipx install ruff, uv tool install ruff)",
	.release = ruff_release,
};
