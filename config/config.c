/* Loads and validates watch.config.json (version 1). Validation is complete
 * before anything starts: unknown keys, wrong types, empty globs, duplicate
 * keys or gate names and unknown gate types are all errors naming
 * file:line:col and the key path. Type-specific keys are checked by each
 * executor's configure(). Both read the tree through lib/jsonget, whose
 * error (key path and message) config_parse() turns into a config_err by
 * adding the file and the position, which only it knows. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "lib/err.h"
#include "lib/jsonget.h"
#include "lib/xmalloc.h"

#define MAX_CONFIG_BYTES (4 << 20)

/* A whole-file error (keypath "") or one jsonget found: the position is
 * the caller's to fill in. Returns WD_ECONFIG. */
static int fail(struct config_err *e, const char *keypath, const char *msg)
{
	snprintf(e->keypath, sizeof(e->keypath), "%s", keypath);
	snprintf(e->msg, sizeof(e->msg), "%s", msg);
	return WD_ECONFIG;
}

/* Appends s with control characters (C0, DEL and C1, which terminals
 * read as escape sequences) written as \xNN / \u00NN: a gate name or value
 * from a hostile config must not drive the terminal that prints the error. */
static void add_escaped(struct buf *out, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p < 0x20 || *p == 0x7f)
			buf_addf(out, "\\x%02x", *p);
		else if (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f)
			buf_addf(out, "\\u%04x", *++p);
		else
			buf_addch(out, (char)*p);
	}
}

void config_err_format(const struct config_err *e, struct buf *out)
{
	add_escaped(out, e->file[0] ? e->file : CONFIG_FILE);
	if (e->line > 0)
		buf_addf(out, ":%d:%d", e->line, e->col);
	buf_addstr(out, ": ");
	if (e->keypath[0]) {
		add_escaped(out, e->keypath);
		buf_addstr(out, ": ");
	}
	add_escaped(out, e->msg);
}

static const char *const gate_common_keys[] = {
	"name", "type", "include", "exclude", "triggers", "map", "config_files",
	"timeout_s", "batch_size", "busy", "cache", "enabled", NULL,
};

static int parse_map(struct gate *g, const cJSON *obj, const char *prefix,
    struct jsonget_err *err)
{
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(obj, "map"), *it;
	char kp[256];

	if (m == NULL)
		return 0;
	jsonget_path(kp, sizeof(kp), prefix, "map");
	if (!cJSON_IsObject(m))
		return jsonget_err_set(err, kp, "expected an object of \"source pattern\": "
		    "\"test pattern\", found %s", jsonget_type_name(m));
	for (it = m->child; it; it = it->next) {
		char ikp[300];

		snprintf(ikp, sizeof(ikp), "%s.%s", kp, it->string);
		if (!cJSON_IsString(it))
			return jsonget_err_set(err, ikp, "expected a string, found %s",
			    jsonget_type_name(it));
		if (!strstr(it->string, "{name}") || !strstr(it->valuestring, "{name}"))
			return jsonget_err_set(err, ikp, "both sides of a map rule need {name}");
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
 * names no "triggers" gets the files its tests are written against: the
 * executor's list when it has one (every PowerShell file for Pester), else
 * every file with an extension of its include globs ("**" when one has
 * none). An explicit "triggers": [] is left alone. */
static void default_triggers(struct gate *g)
{
	if (g->ops->default_triggers) {
		for (size_t i = 0; g->ops->default_triggers[i]; i++)
			strvec_push(&g->triggers, g->ops->default_triggers[i]);
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

static int parse_gate(struct config *cfg, const cJSON *obj, int idx, struct jsonget_err *err)
{
	struct gate *g = &cfg->gates[idx];
	static const char *const busy_names[] = { "queue", "restart", NULL };
	static const char *const cache_names[] = { "all", "pass-only", "none", NULL };
	char prefix[64], kp[128];
	int rc, busy = GATE_BUSY_QUEUE, cache = -1;
	bool enabled = true;
	const cJSON *type;

	g->index = idx;
	snprintf(prefix, sizeof(prefix), "gates[%d]", idx);
	if (!cJSON_IsObject(obj))
		return jsonget_err_set(err, prefix, "expected an object, found %s",
		    jsonget_type_name(obj));
	type = cJSON_GetObjectItemCaseSensitive(obj, "type");
	if ((rc = jsonget_string(obj, prefix, "name", &g->name, err)) ||
	    (rc = jsonget_string(obj, prefix, "type", &g->type, err)))
		return rc;
	if (g->name == NULL)
		return jsonget_err_set(err, prefix, "a gate needs a \"name\"");
	if (!valid_gate_name(g->name)) {
		snprintf(kp, sizeof(kp), "%s.name", prefix);
		return jsonget_err_set(err, kp, "\"%s\": use letters, digits, '.', '_' and '-'",
		    g->name);
	}
	for (int j = 0; j < idx; j++) {
		if (strcmp(cfg->gates[j].name, g->name) == 0) {
			snprintf(kp, sizeof(kp), "%s.name", prefix);
			return jsonget_err_set(err, kp, "duplicate gate name \"%s\" (also gates[%d])",
			    g->name, j);
		}
	}
	if (type == NULL)
		return jsonget_err_set(err, prefix, "gate \"%s\" needs a \"type\" (one of: %s)",
		    g->name, gate_types());
	g->ops = gate_ops_find(g->type);
	if (g->ops == NULL) {
		snprintf(kp, sizeof(kp), "%s.type", prefix);
		return jsonget_err_set(err, kp, "unknown gate type \"%s\" (known: %s)", g->type,
		    gate_types());
	}
	if ((rc = jsonget_known_keys(obj, prefix, gate_common_keys, g->ops->keys, err)))
		return rc;
	/* a message gate's input is the commit message: it needs no include */
	if (!g->ops->message && !cJSON_GetObjectItemCaseSensitive(obj, "include"))
		return jsonget_err_set(err, prefix, "gate \"%s\" needs \"include\" (globs of the "
		    "files it checks)", g->name);
	g->timeout_s = 300;
	if ((rc = jsonget_strings(obj, prefix, "include", JSONGET_GLOBS, &g->include, err)) ||
	    (rc = jsonget_strings(obj, prefix, "exclude", JSONGET_GLOBS, &g->exclude, err)) ||
	    (rc = jsonget_strings(obj, prefix, "triggers", JSONGET_GLOBS, &g->triggers, err)) ||
	    (rc = jsonget_strings(obj, prefix, "config_files", 0, &g->config_files, err)) ||
	    (rc = jsonget_int(obj, prefix, "timeout_s", 1, 86400, &g->timeout_s, err)) ||
	    (rc = jsonget_int(obj, prefix, "batch_size", 0, 100000, &g->batch_size, err)) ||
	    (rc = jsonget_enum(obj, prefix, "busy", busy_names, &busy, err)) ||
	    (rc = jsonget_enum(obj, prefix, "cache", cache_names, &cache, err)) ||
	    (rc = parse_map(g, obj, prefix, err)))
		return rc;
	if (g->include.n == 0 && !g->ops->message) {
		snprintf(kp, sizeof(kp), "%s.include", prefix);
		return jsonget_err_set(err, kp, "must list at least one glob");
	}
	/* only checked here: parse_root() leaves a disabled gate out */
	if ((rc = jsonget_bool(obj, prefix, "enabled", &enabled, err)))
		return rc;
	if (g->ops->message) {
		/* file globs are accepted but mean nothing here: cleared, so no
		 * file batch is ever planned for the gate */
		strvec_clear(&g->include);
		strvec_clear(&g->exclude);
		strvec_clear(&g->triggers);
	}
	g->busy = (enum gate_busy)busy;
	g->batching = GATE_BATCH_FILES;
	g->tests = g->triggers.n > 0;
	if (g->ops->configure && (rc = g->ops->configure(g, obj, prefix, err)))
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
	"writer_timeout_ms", "jobs", "ignore", "gates", "ledger", "remote_cache", NULL,
};

/* "remote_cache": {"url", "read", "write", "timeout_ms"}. The URL is
 * checked for its scheme here, so a typo is a config error with a line,
 * not a warning at the first run. */
static int parse_remote(struct config *cfg, const cJSON *root, struct jsonget_err *err)
{
	static const char *const keys[] = { "url", "read", "write", "timeout_ms", NULL };
	const cJSON *rc_obj = cJSON_GetObjectItemCaseSensitive(root, "remote_cache");
	int rc;

	cfg->remote.read = true;
	cfg->remote.write = false;
	cfg->remote.timeout_ms = 2000;
	if (rc_obj == NULL)
		return 0;
	if (!cJSON_IsObject(rc_obj))
		return jsonget_err_set(err, "remote_cache", "expected an object, found %s",
		    jsonget_type_name(rc_obj));
	if ((rc = jsonget_unique_keys(rc_obj, "remote_cache", err)) ||
	    (rc = jsonget_known_keys(rc_obj, "remote_cache", keys, NULL, err)) ||
	    (rc = jsonget_string(rc_obj, "remote_cache", "url", &cfg->remote.url, err)) ||
	    (rc = jsonget_bool(rc_obj, "remote_cache", "read", &cfg->remote.read, err)) ||
	    (rc = jsonget_bool(rc_obj, "remote_cache", "write", &cfg->remote.write, err)) ||
	    (rc = jsonget_int(rc_obj, "remote_cache", "timeout_ms", 1, 600000,
		&cfg->remote.timeout_ms, err)))
		return rc;
	if (cfg->remote.url == NULL)
		return jsonget_err_set(err, "remote_cache", "missing \"url\" (the cache "
		    "server, e.g. \"http://cache.example:8080/watchd\")");
	if (strncmp(cfg->remote.url, "http://", 7) != 0 &&
	    strncmp(cfg->remote.url, "https://", 8) != 0)
		return jsonget_err_set(err, "remote_cache.url", "expected an http:// or "
		    "https:// URL, found \"%s\"", cfg->remote.url);
	return 0;
}

static int parse_root(struct config *cfg, const cJSON *root, struct jsonget_err *err)
{
	static const char *const ledger_keys[] = { "keep_days", "keep_runs", NULL };
	const cJSON *v, *gates, *ledger;
	int rc, i;

	if (!cJSON_IsObject(root))
		return jsonget_err_set(err, "", "the top level must be an object, found %s",
		    jsonget_type_name(root));
	if ((rc = jsonget_unique_keys(root, "", err)) ||
	    (rc = jsonget_known_keys(root, "", top_keys, NULL, err)))
		return rc;
	v = cJSON_GetObjectItemCaseSensitive(root, "$schema");
	if (v && !cJSON_IsString(v))
		return jsonget_err_set(err, "$schema", "expected a string, found %s",
		    jsonget_type_name(v));
	if (cJSON_GetObjectItemCaseSensitive(root, "version") == NULL)
		return jsonget_err_set(err, "", "missing \"version\": 1");
	if ((rc = jsonget_int(root, "", "version", 1, 1000, &cfg->version, err)))
		return rc;
	if (cfg->version != 1)
		return jsonget_err_set(err, "version", "unsupported version %d (this watchd reads "
		    "version 1)", cfg->version);
	if ((rc = jsonget_int(root, "", "debounce_ms", 0, 600000, &cfg->debounce_ms, err)) ||
	    (rc = jsonget_int(root, "", "max_wait_ms", 0, 3600000, &cfg->max_wait_ms, err)) ||
	    (rc = jsonget_int(root, "", "stability_ms", 0, 600000, &cfg->stability_ms, err)) ||
	    (rc = jsonget_int(root, "", "writer_timeout_ms", 0, 3600000,
		&cfg->writer_timeout_ms, err)) ||
	    (rc = jsonget_int(root, "", "jobs", 0, 1024, &cfg->jobs, err)) ||
	    (rc = jsonget_strings(root, "", "ignore", JSONGET_GLOBS, &cfg->ignore, err)))
		return rc;
	if (cfg->max_wait_ms < cfg->debounce_ms)
		cfg->max_wait_ms = cfg->debounce_ms;
	ledger = cJSON_GetObjectItemCaseSensitive(root, "ledger");
	if (ledger) {
		if (!cJSON_IsObject(ledger))
			return jsonget_err_set(err, "ledger", "expected an object, found %s",
			    jsonget_type_name(ledger));
		if ((rc = jsonget_known_keys(ledger, "ledger", ledger_keys, NULL, err)) ||
		    (rc = jsonget_int(ledger, "ledger", "keep_days", 0, 36500,
			&cfg->ledger_keep_days, err)) ||
		    (rc = jsonget_int(ledger, "ledger", "keep_runs", 0, 100000000,
			&cfg->ledger_keep_runs, err)))
			return rc;
	}
	if ((rc = parse_remote(cfg, root, err)))
		return rc;
	gates = cJSON_GetObjectItemCaseSensitive(root, "gates");
	if (gates == NULL)
		return jsonget_err_set(err, "", "missing \"gates\" (the list of checks to run)");
	if (!cJSON_IsArray(gates))
		return jsonget_err_set(err, "gates", "expected an array, found %s",
		    jsonget_type_name(gates));
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

/* What cJSON accepts silently or refuses without saying why: a \u0000
 * escape (decoded, it would cut the string short: "a\u0000b" read as "a")
 * and nesting past cJSON's limit. Returns the offending byte, or NULL;
 * *why says what it is. */
#define JSON_DEPTH_STR_(n) #n
#define JSON_DEPTH_STR JSON_DEPTH_STR2(CJSON_NESTING_LIMIT)
#define JSON_DEPTH_STR2(n) JSON_DEPTH_STR_(n)

static const char *raw_check(const char *text, size_t len, const char **why)
{
	const char *p = text, *end = text + len;
	bool in_string = false;
	int depth = 0;

	for (; p < end; p++) {
		if (in_string) {
			if (*p == '"')
				in_string = false;
			else if (*p == '\\' && p + 1 < end) {
				if (end - p >= 6 && memcmp(p + 1, "u0000", 5) == 0) {
					*why = "\\u0000 (a NUL character) is not allowed in a string";
					return p;
				}
				p++;
			}
		} else if (*p == '"') {
			in_string = true;
		} else if (*p == '[' || *p == '{') {
			if (++depth > CJSON_NESTING_LIMIT) {
				*why = "nested too deeply (more than " JSON_DEPTH_STR " levels of arrays "
				    "and objects)";
				return p;
			}
		} else if (*p == ']' || *p == '}') {
			depth--;
		}
	}
	return NULL;
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
	struct jsonget_err jerr = { "", "" };
	const char *end = NULL, *bad, *why = NULL;
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
	if ((bad = raw_check(text, len, &why)) != NULL) {
		rc = fail(err, "", why);
		text_position(text, bad, &err->line, &err->col);
		config_release(cfg);
		return rc;
	}
	root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
	if (root == NULL || !only_space(end, text + len)) {
		/* cJSON's error pointer can sit one byte past the real problem,
		 * so the message says "near". */
		const char *at = end && end >= text ? end : text;

		if (root == NULL)
			rc = fail(err, "", "invalid JSON");
		else
			rc = fail(err, "", "unexpected text after the JSON document");
		cJSON_Delete(root);
		text_position(text, at, &err->line, &err->col);
		snprintf(err->msg + strlen(err->msg), sizeof(err->msg) - strlen(err->msg),
		    " near line %d, column %d", err->line, err->col);
		config_release(cfg);
		return rc;
	}
	rc = parse_root(cfg, root, &jerr);
	cJSON_Delete(root);
	if (rc) {
		fail(err, jerr.keypath, jerr.msg);
		json_locate(text, len, err->keypath, &err->line, &err->col);
		config_release(cfg);
	}
	return rc;
}

int config_load(const char *path, struct config *cfg, struct config_err *err)
{
	char msg[128];
	struct buf b = BUF_INIT;
	int rc = buf_read_file(&b, path, MAX_CONFIG_BYTES + 1);

	if (rc < 0) {
		memset(err, 0, sizeof(*err));
		snprintf(err->file, sizeof(err->file), "%s", path);
		config_defaults(cfg);
		buf_release(&b);
		if (rc == -ENOENT)
			return fail(err, "", "no such file (create it, or pass --config "
			    "FILE; see README.md for the format)");
		snprintf(msg, sizeof(msg), "cannot read: %s", strerror(-rc));
		return fail(err, "", msg);
	}
	if (b.len > MAX_CONFIG_BYTES) {
		memset(err, 0, sizeof(*err));
		snprintf(err->file, sizeof(err->file), "%s", path);
		config_defaults(cfg);
		buf_release(&b);
		snprintf(msg, sizeof(msg), "larger than %d bytes", MAX_CONFIG_BYTES);
		return fail(err, "", msg);
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
	free(cfg->remote.url);
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
	if (cfg->remote.url) {
		cJSON *rc = cJSON_AddObjectToObject(root, "remote_cache");

		cJSON_AddStringToObject(rc, "url", cfg->remote.url);
		cJSON_AddBoolToObject(rc, "read", cfg->remote.read);
		cJSON_AddBoolToObject(rc, "write", cfg->remote.write);
		cJSON_AddNumberToObject(rc, "timeout_ms", cfg->remote.timeout_ms);
	}
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
