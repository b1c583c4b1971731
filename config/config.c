/* Loads and validates watch.config.json (version 1). Validation is complete
 * before anything starts: unknown keys, wrong types, empty globs, duplicate
 * keys or gate names and unknown gate types are all errors naming
 * file:line:col and the key path. Type-specific keys are checked by each
 * executor's configure(). */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "lib/err.h"
#include "lib/glob.h"
#include "lib/xmalloc.h"

#define MAX_CONFIG_BYTES (4 << 20)

int config_err_set(struct config_err *e, const char *keypath, const char *fmt, ...)
{
	va_list ap;

	if (e == NULL)
		return WD_ECONFIG;
	snprintf(e->keypath, sizeof(e->keypath), "%s", keypath ? keypath : "");
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return WD_ECONFIG;
}

void config_err_format(const struct config_err *e, struct buf *out)
{
	buf_addstr(out, e->file[0] ? e->file : CONFIG_FILE);
	if (e->line > 0)
		buf_addf(out, ":%d:%d", e->line, e->col);
	buf_addstr(out, ": ");
	if (e->keypath[0])
		buf_addf(out, "%s: ", e->keypath);
	buf_addstr(out, e->msg);
}

static void join_key(char *out, size_t n, const char *prefix, const char *key)
{
	if (prefix == NULL || *prefix == '\0')
		snprintf(out, n, "%s", key);
	else
		snprintf(out, n, "%s.%s", prefix, key);
}

static const char *type_name(const cJSON *v)
{
	if (cJSON_IsString(v))
		return "a string";
	if (cJSON_IsNumber(v))
		return "a number";
	if (cJSON_IsBool(v))
		return "a boolean";
	if (cJSON_IsNull(v))
		return "null";
	if (cJSON_IsArray(v))
		return "an array";
	if (cJSON_IsObject(v))
		return "an object";
	return "something else";
}

int config_get_string(const cJSON *obj, const char *key, const char *prefix, char **out,
    struct config_err *err)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	char kp[256];

	if (v == NULL)
		return 0;
	join_key(kp, sizeof(kp), prefix, key);
	if (!cJSON_IsString(v))
		return config_err_set(err, kp, "expected a string, found %s", type_name(v));
	if (v->valuestring[0] == '\0')
		return config_err_set(err, kp, "must not be empty");
	free(*out);
	*out = xstrdup(v->valuestring);
	return 0;
}

int config_get_int(const cJSON *obj, const char *key, const char *prefix, int min, int max,
    int *out, struct config_err *err)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	char kp[256];
	double d;

	if (v == NULL)
		return 0;
	join_key(kp, sizeof(kp), prefix, key);
	if (!cJSON_IsNumber(v))
		return config_err_set(err, kp, "expected an integer, found %s", type_name(v));
	d = v->valuedouble;
	if (d != floor(d) || !isfinite(d))
		return config_err_set(err, kp, "expected an integer, found %g", d);
	if (d < min || d > max)
		return config_err_set(err, kp, "must be between %d and %d, found %.0f", min, max, d);
	*out = (int)d;
	return 0;
}

int config_get_strings(const cJSON *obj, const char *key, const char *prefix, bool globs,
    struct strvec *out, struct config_err *err)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key), *it;
	char kp[256];
	int i = 0;

	if (v == NULL)
		return 0;
	join_key(kp, sizeof(kp), prefix, key);
	if (!cJSON_IsArray(v))
		return config_err_set(err, kp, "expected an array of strings, found %s",
		    type_name(v));
	strvec_clear(out);
	cJSON_ArrayForEach(it, v) {
		char ikp[300];
		const char *why;

		snprintf(ikp, sizeof(ikp), "%s[%d]", kp, i++);
		if (!cJSON_IsString(it))
			return config_err_set(err, ikp, "expected a string, found %s", type_name(it));
		if (globs && (why = glob_check(it->valuestring)) != NULL)
			return config_err_set(err, ikp, "%s", why);
		strvec_push(out, it->valuestring);
	}
	return 0;
}

/* Rejects keys not in allowed (and the extra list, if any). */
static int check_keys(const cJSON *obj, const char *prefix, const char *const *allowed,
    const char *const *extra, struct config_err *err)
{
	const cJSON *it;

	for (it = obj->child; it; it = it->next) {
		bool ok = false;
		char kp[256];

		for (size_t i = 0; allowed[i] && !ok; i++)
			ok = strcmp(allowed[i], it->string) == 0;
		for (size_t i = 0; extra && extra[i] && !ok; i++)
			ok = strcmp(extra[i], it->string) == 0;
		if (!ok) {
			join_key(kp, sizeof(kp), prefix, it->string);
			return config_err_set(err, kp, "unknown key \"%s\"", it->string);
		}
	}
	return 0;
}

/* cJSON keeps every duplicate key; a config with two "timeout_s" is a typo
 * waiting to bite, so reject it everywhere in the tree. */
static int check_duplicates(const cJSON *v, const char *prefix, struct config_err *err)
{
	const cJSON *a, *b;
	int i = 0;

	if (cJSON_IsObject(v)) {
		for (a = v->child; a; a = a->next) {
			char kp[256];

			join_key(kp, sizeof(kp), prefix, a->string);
			for (b = v->child; b != a; b = b->next)
				if (strcmp(a->string, b->string) == 0)
					return config_err_set(err, kp, "duplicate key \"%s\"", a->string);
			if (check_duplicates(a, kp, err))
				return WD_ECONFIG;
		}
	} else if (cJSON_IsArray(v)) {
		cJSON_ArrayForEach(a, v) {
			char kp[256];

			snprintf(kp, sizeof(kp), "%s[%d]", prefix, i++);
			if (check_duplicates(a, kp, err))
				return WD_ECONFIG;
		}
	}
	return 0;
}

static const char *const gate_common_keys[] = {
	"name", "type", "include", "exclude", "triggers", "map", "config_files",
	"timeout_s", "batch_size", "busy", "cache", "enabled", NULL,
};

static int parse_enum(const cJSON *obj, const char *key, const char *prefix,
    const char *const *names, int *out, struct config_err *err)
{
	char *s = NULL;
	int rc = config_get_string(obj, key, prefix, &s, err);

	if (rc || s == NULL)
		return rc;
	for (int i = 0; names[i]; i++) {
		if (strcmp(names[i], s) == 0) {
			*out = i;
			free(s);
			return 0;
		}
	}
	{
		char kp[256];
		struct buf list = BUF_INIT;

		for (int i = 0; names[i]; i++)
			buf_addf(&list, "%s\"%s\"", i ? ", " : "", names[i]);
		join_key(kp, sizeof(kp), prefix, key);
		rc = config_err_set(err, kp, "unknown value \"%s\" (expected %s)", s, list.buf);
		buf_release(&list);
	}
	free(s);
	return rc;
}

static int parse_map(struct gate *g, const cJSON *obj, const char *prefix, struct config_err *err)
{
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(obj, "map"), *it;
	char kp[256];

	if (m == NULL)
		return 0;
	join_key(kp, sizeof(kp), prefix, "map");
	if (!cJSON_IsObject(m))
		return config_err_set(err, kp, "expected an object of \"source pattern\": "
		    "\"test pattern\", found %s", type_name(m));
	for (it = m->child; it; it = it->next) {
		char ikp[300];

		snprintf(ikp, sizeof(ikp), "%s.%s", kp, it->string);
		if (!cJSON_IsString(it))
			return config_err_set(err, ikp, "expected a string, found %s", type_name(it));
		if (!strstr(it->string, "{name}") || !strstr(it->valuestring, "{name}"))
			return config_err_set(err, ikp, "both sides of a map rule need {name}");
		g->map = xrealloc(g->map, (g->nmap + 1) * sizeof(*g->map));
		g->map[g->nmap].from = xstrdup(it->string);
		g->map[g->nmap].to = xstrdup(it->valuestring);
		g->nmap++;
	}
	return 0;
}

/* The extension of a glob's last segment (".py" for "test_*.py"),
 * or NULL when it has none a file name could be matched by. */
static char *glob_extension(const char *glob)
{
	const char *base = strrchr(glob, '/'), *dot;

	base = base ? base + 1 : glob;
	dot = strrchr(base, '.');
	if (dot == NULL || dot[1] == '\0' || strpbrk(dot, "*?[]{}\\") != NULL)
		return NULL;
	return xstrdup(dot);
}

/* A test's verdict depends on the code it exercises, so a test gate that
 * names no "triggers" gets the files its tests are written against: every
 * PowerShell file for Pester, else every file with an extension of its
 * include globs ("**" when one has none). An explicit "triggers": [] is
 * left alone. */
static void default_triggers(struct gate *g)
{
	if (strcmp(g->type, "pester") == 0) {
		strvec_push(&g->triggers, "**/*.ps1");
		strvec_push(&g->triggers, "**/*.psm1");
		strvec_push(&g->triggers, "**/*.psd1");
		return;
	}
	for (size_t i = 0; i < g->include.n; i++) {
		char *ext = glob_extension(g->include.v[i]), *t;

		if (ext == NULL) {
			strvec_clear(&g->triggers);
			strvec_push(&g->triggers, "**");
			return;
		}
		t = xasprintf("**/*%s", ext);
		if (strvec_find(&g->triggers, t) < 0)
			strvec_push(&g->triggers, t);
		free(t);
		free(ext);
	}
}

static bool valid_gate_name(const char *s)
{
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("._-", *s))
			return false;
	return true;
}

static int parse_gate(struct config *cfg, const cJSON *obj, int idx, struct config_err *err)
{
	struct gate *g = &cfg->gates[idx];
	static const char *const busy_names[] = { "queue", "restart", NULL };
	static const char *const cache_names[] = { "all", "pass-only", "none", NULL };
	char prefix[64], kp[128];
	int rc, busy = GATE_BUSY_QUEUE, cache = -1;
	const cJSON *type;

	g->index = idx;
	snprintf(prefix, sizeof(prefix), "gates[%d]", idx);
	if (!cJSON_IsObject(obj))
		return config_err_set(err, prefix, "expected an object, found %s", type_name(obj));
	type = cJSON_GetObjectItemCaseSensitive(obj, "type");
	if ((rc = config_get_string(obj, "name", prefix, &g->name, err)) ||
	    (rc = config_get_string(obj, "type", prefix, &g->type, err)))
		return rc;
	if (g->name == NULL)
		return config_err_set(err, prefix, "a gate needs a \"name\"");
	if (!valid_gate_name(g->name)) {
		snprintf(kp, sizeof(kp), "%s.name", prefix);
		return config_err_set(err, kp, "\"%s\": use letters, digits, '.', '_' and '-'",
		    g->name);
	}
	for (int j = 0; j < idx; j++) {
		if (strcmp(cfg->gates[j].name, g->name) == 0) {
			snprintf(kp, sizeof(kp), "%s.name", prefix);
			return config_err_set(err, kp, "duplicate gate name \"%s\" (also gates[%d])",
			    g->name, j);
		}
	}
	if (type == NULL)
		return config_err_set(err, prefix, "gate \"%s\" needs a \"type\" (one of: %s)",
		    g->name, gate_types());
	g->ops = gate_ops_find(g->type);
	if (g->ops == NULL) {
		snprintf(kp, sizeof(kp), "%s.type", prefix);
		return config_err_set(err, kp, "unknown gate type \"%s\" (known: %s)", g->type,
		    gate_types());
	}
	if ((rc = check_keys(obj, prefix, gate_common_keys, g->ops->keys, err)))
		return rc;
	if (!cJSON_GetObjectItemCaseSensitive(obj, "include"))
		return config_err_set(err, prefix, "gate \"%s\" needs \"include\" (globs of the "
		    "files it checks)", g->name);
	g->timeout_s = 300;
	if ((rc = config_get_strings(obj, "include", prefix, true, &g->include, err)) ||
	    (rc = config_get_strings(obj, "exclude", prefix, true, &g->exclude, err)) ||
	    (rc = config_get_strings(obj, "triggers", prefix, true, &g->triggers, err)) ||
	    (rc = config_get_strings(obj, "config_files", prefix, false, &g->config_files, err)) ||
	    (rc = config_get_int(obj, "timeout_s", prefix, 1, 86400, &g->timeout_s, err)) ||
	    (rc = config_get_int(obj, "batch_size", prefix, 0, 100000, &g->batch_size, err)) ||
	    (rc = parse_enum(obj, "busy", prefix, busy_names, &busy, err)) ||
	    (rc = parse_enum(obj, "cache", prefix, cache_names, &cache, err)) ||
	    (rc = parse_map(g, obj, prefix, err)))
		return rc;
	if (g->include.n == 0) {
		snprintf(kp, sizeof(kp), "%s.include", prefix);
		return config_err_set(err, kp, "must list at least one glob");
	}
	{
		const cJSON *en = cJSON_GetObjectItemCaseSensitive(obj, "enabled");

		if (en && !cJSON_IsBool(en)) {
			snprintf(kp, sizeof(kp), "%s.enabled", prefix);
			return config_err_set(err, kp, "expected true or false, found %s",
			    type_name(en));
		}
	}
	g->busy = (enum gate_busy)busy;
	g->batching = GATE_BATCH_FILES;
	g->tests = g->triggers.n > 0;
	if (g->ops->configure && (rc = g->ops->configure(g, obj, err)))
		return rc;
	if (g->tests && !cJSON_GetObjectItemCaseSensitive(obj, "triggers"))
		default_triggers(g);
	/* A test's verdict depends on code beyond its own file: test gates
	 * keep failures out of the cache unless told otherwise. */
	g->cache = cache >= 0 ? (enum gate_cache)cache :
	    g->tests ? GATE_CACHE_PASS_ONLY : GATE_CACHE_ALL;
	{
		char *def = cJSON_PrintUnformatted(obj);

		g->definition = xstrdup(def ? def : "");
		cJSON_free(def);
	}
	return 0;
}

static const char *const top_keys[] = {
	"$schema", "version", "debounce_ms", "max_wait_ms", "stability_ms",
	"writer_timeout_ms", "jobs", "ignore", "gates", "ledger", NULL,
};

static int parse_root(struct config *cfg, const cJSON *root, struct config_err *err)
{
	static const char *const ledger_keys[] = { "keep_days", "keep_runs", NULL };
	const cJSON *v, *gates, *ledger;
	int rc, i;

	if (!cJSON_IsObject(root))
		return config_err_set(err, "", "the top level must be an object, found %s",
		    type_name(root));
	if ((rc = check_duplicates(root, "", err)) || (rc = check_keys(root, "", top_keys, NULL, err)))
		return rc;
	v = cJSON_GetObjectItemCaseSensitive(root, "$schema");
	if (v && !cJSON_IsString(v))
		return config_err_set(err, "$schema", "expected a string, found %s", type_name(v));
	if (cJSON_GetObjectItemCaseSensitive(root, "version") == NULL)
		return config_err_set(err, "", "missing \"version\": 1");
	if ((rc = config_get_int(root, "version", "", 1, 1000, &cfg->version, err)))
		return rc;
	if (cfg->version != 1)
		return config_err_set(err, "version", "unsupported version %d (this watchd reads "
		    "version 1)", cfg->version);
	if ((rc = config_get_int(root, "debounce_ms", "", 0, 600000, &cfg->debounce_ms, err)) ||
	    (rc = config_get_int(root, "max_wait_ms", "", 0, 3600000, &cfg->max_wait_ms, err)) ||
	    (rc = config_get_int(root, "stability_ms", "", 0, 600000, &cfg->stability_ms, err)) ||
	    (rc = config_get_int(root, "writer_timeout_ms", "", 0, 3600000,
		&cfg->writer_timeout_ms, err)) ||
	    (rc = config_get_int(root, "jobs", "", 0, 1024, &cfg->jobs, err)) ||
	    (rc = config_get_strings(root, "ignore", "", true, &cfg->ignore, err)))
		return rc;
	if (cfg->max_wait_ms < cfg->debounce_ms)
		cfg->max_wait_ms = cfg->debounce_ms;
	ledger = cJSON_GetObjectItemCaseSensitive(root, "ledger");
	if (ledger) {
		if (!cJSON_IsObject(ledger))
			return config_err_set(err, "ledger", "expected an object, found %s",
			    type_name(ledger));
		if ((rc = check_keys(ledger, "ledger", ledger_keys, NULL, err)) ||
		    (rc = config_get_int(ledger, "keep_days", "ledger", 0, 36500,
			&cfg->ledger_keep_days, err)) ||
		    (rc = config_get_int(ledger, "keep_runs", "ledger", 0, 100000000,
			&cfg->ledger_keep_runs, err)))
			return rc;
	}
	gates = cJSON_GetObjectItemCaseSensitive(root, "gates");
	if (gates == NULL)
		return config_err_set(err, "", "missing \"gates\" (the list of checks to run)");
	if (!cJSON_IsArray(gates))
		return config_err_set(err, "gates", "expected an array, found %s", type_name(gates));
	cfg->ngates = (size_t)cJSON_GetArraySize(gates);
	cfg->gates = xcalloc(cfg->ngates ? cfg->ngates : 1, sizeof(*cfg->gates));
	i = 0;
	cJSON_ArrayForEach(v, gates) {
		const cJSON *en = cJSON_GetObjectItemCaseSensitive(v, "enabled");

		if ((rc = parse_gate(cfg, v, i, err)))
			return rc;
		if (cJSON_IsFalse(en)) {	/* validated, then left out */
			gate_release(&cfg->gates[i]);
			cfg->ngates--;
			continue;
		}
		i++;
	}
	return 0;
}

static void config_defaults(struct config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->version = 1;
	cfg->debounce_ms = 200;
	cfg->max_wait_ms = 2000;
	cfg->stability_ms = 100;
	cfg->writer_timeout_ms = 10000;
	cfg->jobs = 0;
	cfg->ledger_keep_days = 30;
}

static bool only_space(const char *p, const char *end)
{
	for (; p && p < end; p++)
		if (!isspace((unsigned char)*p))
			return false;
	return true;
}

static void text_position(const char *text, const char *at, int *line, int *col)
{
	*line = 1;
	*col = 1;
	for (const char *p = text; p < at; p++) {
		if (*p == '\n') {
			(*line)++;
			*col = 1;
		} else if (((unsigned char)*p & 0xC0) != 0x80)
			(*col)++;
	}
}

int config_parse(const char *path, const char *text, size_t len, struct config *cfg,
    struct config_err *err)
{
	const char *end = NULL;
	cJSON *root;
	int rc;

	config_defaults(cfg);
	memset(err, 0, sizeof(*err));
	snprintf(err->file, sizeof(err->file), "%s", path);
	cfg->path = xstrdup(path);
	cfg->text = xstrndup(text, len);
	cfg->text_len = len;
	if (len > 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0) {	/* tolerate a BOM */
		text += 3;
		len -= 3;
	}
	root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
	if (root == NULL || !only_space(end, text + len)) {
		/* cJSON's error pointer can sit one byte past the real problem,
		 * so the message says "near". */
		const char *at = end && end >= text ? end : text;

		if (root == NULL)
			rc = config_err_set(err, "", "invalid JSON");
		else
			rc = config_err_set(err, "", "unexpected text after the JSON document");
		cJSON_Delete(root);
		text_position(text, at, &err->line, &err->col);
		snprintf(err->msg + strlen(err->msg), sizeof(err->msg) - strlen(err->msg),
		    " near line %d, column %d", err->line, err->col);
		config_release(cfg);
		return rc;
	}
	rc = parse_root(cfg, root, err);
	cJSON_Delete(root);
	if (rc) {
		json_locate(text, len, err->keypath, &err->line, &err->col);
		config_release(cfg);
	}
	return rc;
}

int config_load(const char *path, struct config *cfg, struct config_err *err)
{
	struct buf b = BUF_INIT;
	int rc = buf_read_file(&b, path, MAX_CONFIG_BYTES + 1);

	if (rc < 0) {
		memset(err, 0, sizeof(*err));
		snprintf(err->file, sizeof(err->file), "%s", path);
		config_defaults(cfg);
		buf_release(&b);
		if (rc == -ENOENT)
			return config_err_set(err, "", "no such file (create it, or pass --config "
			    "FILE; see README.md for the format)");
		return config_err_set(err, "", "cannot read: %s", strerror(-rc));
	}
	if (b.len > MAX_CONFIG_BYTES) {
		memset(err, 0, sizeof(*err));
		snprintf(err->file, sizeof(err->file), "%s", path);
		config_defaults(cfg);
		buf_release(&b);
		return config_err_set(err, "", "larger than %d bytes", MAX_CONFIG_BYTES);
	}
	rc = config_parse(path, b.buf, b.len, cfg, err);
	buf_release(&b);
	return rc;
}

void config_release(struct config *cfg)
{
	for (size_t i = 0; i < cfg->ngates; i++)
		gate_release(&cfg->gates[i]);
	free(cfg->gates);
	strvec_clear(&cfg->ignore);
	free(cfg->path);
	free(cfg->text);
	memset(cfg, 0, sizeof(*cfg));
}

struct gate *config_gate(const struct config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->ngates; i++)
		if (strcmp(cfg->gates[i].name, name) == 0)
			return &cfg->gates[i];
	return NULL;
}

static cJSON *strings_json(const struct strvec *sv)
{
	cJSON *a = cJSON_CreateArray();

	for (size_t i = 0; i < sv->n; i++)
		cJSON_AddItemToArray(a, cJSON_CreateString(sv->v[i]));
	return a;
}

cJSON *config_to_json(const struct config *cfg)
{
	static const char *const busy_names[] = { "queue", "restart" };
	static const char *const cache_names[] = { "all", "pass-only", "none" };
	cJSON *root = cJSON_CreateObject(), *gates, *ledger;

	cJSON_AddNumberToObject(root, "version", cfg->version);
	cJSON_AddNumberToObject(root, "debounce_ms", cfg->debounce_ms);
	cJSON_AddNumberToObject(root, "max_wait_ms", cfg->max_wait_ms);
	cJSON_AddNumberToObject(root, "stability_ms", cfg->stability_ms);
	cJSON_AddNumberToObject(root, "writer_timeout_ms", cfg->writer_timeout_ms);
	cJSON_AddNumberToObject(root, "jobs", cfg->jobs);
	cJSON_AddItemToObject(root, "ignore", strings_json(&cfg->ignore));
	ledger = cJSON_AddObjectToObject(root, "ledger");
	cJSON_AddNumberToObject(ledger, "keep_days", cfg->ledger_keep_days);
	cJSON_AddNumberToObject(ledger, "keep_runs", cfg->ledger_keep_runs);
	gates = cJSON_AddArrayToObject(root, "gates");
	for (size_t i = 0; i < cfg->ngates; i++) {
		const struct gate *g = &cfg->gates[i];
		/* start from what was written, so type-specific keys (a ruff
		 * gate's "args") show too, then set every common key to its
		 * effective value */
		cJSON *o = cJSON_Parse(g->definition);
		static const char *const common[] = { "name", "type", "include", "exclude",
			"triggers", "map", "config_files", "command", "parser", "settings",
			"timeout_s", "batch_size", "busy", "cache", NULL };

		if (!cJSON_IsObject(o)) {
			cJSON_Delete(o);
			o = cJSON_CreateObject();
		}
		for (size_t k = 0; common[k]; k++)
			cJSON_DeleteItemFromObjectCaseSensitive(o, common[k]);
		cJSON_AddStringToObject(o, "name", g->name);
		cJSON_AddStringToObject(o, "type", g->type);
		cJSON_AddItemToObject(o, "include", strings_json(&g->include));
		cJSON_AddItemToObject(o, "exclude", strings_json(&g->exclude));
		if (g->triggers.n || g->tests)
			cJSON_AddItemToObject(o, "triggers", strings_json(&g->triggers));
		if (g->nmap) {
			cJSON *m = cJSON_AddObjectToObject(o, "map");

			for (size_t j = 0; j < g->nmap; j++)
				cJSON_AddStringToObject(m, g->map[j].from, g->map[j].to);
		}
		cJSON_AddItemToObject(o, "config_files", strings_json(&g->config_files));
		if (g->command.n)
			cJSON_AddItemToObject(o, "command", strings_json(&g->command));
		if (g->parser)
			cJSON_AddStringToObject(o, "parser", g->parser);
		if (g->settings)
			cJSON_AddStringToObject(o, "settings", g->settings);
		cJSON_AddNumberToObject(o, "timeout_s", g->timeout_s);
		cJSON_AddNumberToObject(o, "batch_size", g->batch_size);
		cJSON_AddStringToObject(o, "busy", busy_names[g->busy]);
		cJSON_AddStringToObject(o, "cache", cache_names[g->cache]);
		cJSON_AddItemToArray(gates, o);
	}
	return root;
}
