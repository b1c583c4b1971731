/* Helpers shared by every executor: findings lists, results, status names. */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gate.h"
#include "lib/buf.h"
#include "lib/glob.h"
#include "lib/xmalloc.h"

static const char *const status_names[] = {
	[GATE_PASS] = "pass", [GATE_FAIL] = "fail", [GATE_ERROR] = "error",
	[GATE_TIMEOUT] = "timeout", [GATE_MISSING] = "missing", [GATE_SKIPPED] = "skipped",
};

const char *gate_status_name(enum gate_status s)
{
	if ((size_t)s < sizeof(status_names) / sizeof(*status_names))
		return status_names[s];
	return "error";
}

int gate_status_parse(const char *name)
{
	for (size_t i = 0; i < sizeof(status_names) / sizeof(*status_names); i++)
		if (strcmp(status_names[i], name) == 0)
			return (int)i;
	return -1;
}

static char *dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

void findings_add(struct findings *fs, const struct finding *f)
{
	struct finding *d;

	fs->v = xgrow(fs->v, &fs->alloc, fs->n + 1, sizeof(*fs->v));
	d = &fs->v[fs->n++];
	*d = *f;
	d->path = dup_or_null(f->path);
	d->code = dup_or_null(f->code);
	d->severity = xstrdup(f->severity ? f->severity : "error");
	d->message = xstrdup(f->message ? f->message : "");
	d->url = dup_or_null(f->url);
}

void findings_release(struct findings *fs)
{
	for (size_t i = 0; i < fs->n; i++) {
		struct finding *f = &fs->v[i];

		free(f->path);
		free(f->code);
		free(f->severity);
		free(f->message);
		free(f->url);
	}
	free(fs->v);
	memset(fs, 0, sizeof(*fs));
}

void gate_result_release(struct gate_result *r)
{
	findings_release(&r->findings);
	free(r->message);
	r->message = NULL;
}

void gate_result_msg(struct gate_result *r, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	free(r->message);
	r->message = s;
}

const char *gate_batch_file(const struct gate_output *out, const char *path)
{
	const char *hit = NULL;
	size_t pl = strlen(path);

	for (size_t i = 0; i < out->nfiles; i++)
		if (strcmp(out->files[i], path) == 0)
			return out->files[i];
	for (size_t i = 0; i < out->nfiles; i++) {
		const char *f = out->files[i], *nl = strrchr(f, '\n');

		if (nl == NULL || strlen(nl + 1) != pl || memcmp(nl + 1, path, pl) != 0)
			continue;
		if (hit)
			return NULL;	/* two names end the same way: say neither */
		hit = f;
	}
	return hit;
}

char *gate_quote_path(const char *path)
{
	struct buf b = BUF_INIT;
	bool plain = true;

	for (const unsigned char *p = (const unsigned char *)path; *p && plain; p++)
		plain = *p >= 0x20 && *p != 0x7f && *p != '"' && *p != '\\';
	if (plain)
		return xstrdup(path);
	buf_addch(&b, '"');
	for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
		switch (*p) {
		case '\n': buf_addstr(&b, "\\n"); break;
		case '\t': buf_addstr(&b, "\\t"); break;
		case '\r': buf_addstr(&b, "\\r"); break;
		case '"': buf_addstr(&b, "\\\""); break;
		case '\\': buf_addstr(&b, "\\\\"); break;
		default:
			if (*p < 0x20 || *p == 0x7f)
				buf_addf(&b, "\\%03o", *p);
			else
				buf_addch(&b, (char)*p);
		}
	}
	buf_addch(&b, '"');
	return buf_detach(&b, NULL);
}

bool gate_output_whole(const struct gate_output *out, bool err, struct gate_result *r)
{
	const char *which = out->out_truncated ? "stdout" :
	    err && out->err_truncated ? "stderr" : NULL;

	char size[32];

	if (which == NULL)
		return true;
	r->status = GATE_ERROR;
	if (out->limit >= (1 << 20))
		snprintf(size, sizeof(size), "%zu MiB", out->limit >> 20);
	else
		snprintf(size, sizeof(size), "%zu bytes", out->limit);
	gate_result_msg(r, "the tool wrote more than %s on %s, more than watchd reads to "
	    "parse it; the rest was dropped, so it cannot be judged", size, which);
	return false;
}

void gate_add_config_file(struct gate *g, const char *path)
{
	while (path[0] == '.' && path[1] == '/')
		path += 2;
	if (*path && strvec_find(&g->config_files, path) < 0)
		strvec_push(&g->config_files, path);
}

void gate_release(struct gate *g)
{
	if (g->ops && g->ops->release)
		g->ops->release(g);
	free(g->name);
	free(g->type);
	strvec_clear(&g->include);
	strvec_clear(&g->exclude);
	strvec_clear(&g->triggers);
	strvec_clear(&g->config_files);
	strvec_clear(&g->command);
	for (size_t i = 0; i < g->nmap; i++) {
		free(g->map[i].from);
		free(g->map[i].to);
	}
	free(g->map);
	free(g->parser);
	free(g->settings);
	free(g->definition);
	memset(g, 0, sizeof(*g));
}

char *gate_relpath(const char *root, const char *path)
{
	size_t rl;

	if (path == NULL)
		return NULL;
	while (path[0] == '.' && path[1] == '/' && path[2] != '\0')
		path += 2;
	if (root == NULL || root[0] == '\0')
		return xstrdup(path);
	rl = strlen(root);
	while (rl > 1 && root[rl - 1] == '/')
		rl--;
	/* "/" as root: every absolute path is under it */
	if (rl == 1 && path[0] == '/' && path[1] != '\0')
		return xstrdup(path + 1);
	if (strncmp(path, root, rl) == 0 && path[rl] == '/' && path[rl + 1] != '\0')
		return gate_relpath(NULL, path + rl + 1);
	return xstrdup(path);
}

char *gate_excerpt(const char *s, size_t len)
{
	enum { MAX = 100 };
	struct buf b = BUF_INIT;
	size_t i = 0;

	if (s == NULL)
		len = 0;
	s = gate_skip_bom(s, &len);
	while (i < len && isspace((unsigned char)s[i]))
		i++;
	for (; i < len && b.len < MAX; i++) {
		unsigned char c = (unsigned char)s[i];

		if (isspace(c) || c < 0x20 || c == 0x7f) {
			if (b.len && b.buf[b.len - 1] != ' ')
				buf_addch(&b, ' ');
			continue;
		}
		buf_addch(&b, (char)c);
	}
	while (b.len && b.buf[b.len - 1] == ' ')
		buf_setlen(&b, b.len - 1);
	/* when cut, drop a trailing multibyte character that may be incomplete */
	if (i < len) {
		while (b.len && ((unsigned char)b.buf[b.len - 1] & 0xc0) == 0x80)
			buf_setlen(&b, b.len - 1);
		if (b.len && ((unsigned char)b.buf[b.len - 1] & 0xc0) == 0xc0)
			buf_setlen(&b, b.len - 1);
	}
	if (b.len == 0)
		buf_addstr(&b, "(empty)");
	else if (i < len)
		buf_addstr(&b, "...");
	return buf_detach(&b, NULL);
}

const char *gate_skip_bom(const char *text, size_t *len)
{
	if (text && *len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0) {
		*len -= 3;
		return text + 3;
	}
	return text;
}

cJSON *gate_json_parse(const char *text, size_t len, const char **bad)
{
	const char *end = NULL;
	cJSON *j;

	if (bad)
		*bad = text;
	if (text == NULL)
		return NULL;
	text = gate_skip_bom(text, &len);
	/* cJSON reads up to len without needing a NUL (PITFALLS §7) */
	j = cJSON_ParseWithLengthOpts(text, len, &end, 0);
	if (j == NULL) {
		if (bad)
			*bad = end ? end : text;
		return NULL;
	}
	for (const char *p = end; p < text + len; p++) {
		if (!isspace((unsigned char)*p)) {
			if (bad)
				*bad = p;
			cJSON_Delete(j);
			return NULL;
		}
	}
	return j;
}

bool gate_matches(const struct gate *g, const char *path)
{
	bool in = false;

	for (size_t i = 0; i < g->include.n && !in; i++)
		in = glob_match(g->include.v[i], path);
	if (!in)
		return false;
	for (size_t i = 0; i < g->exclude.n; i++)
		if (glob_match_or_parent(g->exclude.v[i], path))
			return false;
	return true;
}
