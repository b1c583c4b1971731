/* Helpers shared by every executor: findings lists, results, status names. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gate.h"
#include "xmalloc.h"

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
