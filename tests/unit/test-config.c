/* Config validation: every error names line:col and the key path. */
#include "config/config.h"
#include "gates/commit-msg.h"
#include "lib/err.h"
#include "lib/glob.h"
#include "lib/xmalloc.h"
#include "test.h"

static int parse(const char *text, struct config *cfg, struct config_err *err)
{
	return config_parse("watch.config.json", text, strlen(text), cfg, err);
}

TEST_IMPL(config_valid)
{
	struct config cfg;
	struct config_err err;
	const char *text = "{\"version\": 1, \"debounce_ms\": 50, \"ignore\": [\"build/**\"],\n"
	    " \"gates\": [{\"name\": \"sh\", \"type\": \"command\", \"include\": [\"**/*.sh\"],\n"
	    "  \"command\": [\"shellcheck\", \"-f\", \"gcc\", \"{files}\"], \"timeout_s\": 60}]}";

	ASSERT_OK(parse(text, &cfg, &err));
	ASSERT_EQ(cfg.debounce_ms, 50);
	ASSERT_EQ(cfg.stability_ms, 100);
	ASSERT_EQ(cfg.ngates, 1);
	ASSERT_STR_EQ(cfg.gates[0].name, "sh");
	ASSERT_EQ(cfg.gates[0].timeout_s, 60);
	ASSERT_EQ(cfg.gates[0].batching, GATE_BATCH_FILES);
	ASSERT_STR_EQ(cfg.ignore.v[0], "build/**");
	config_release(&cfg);
	return 0;
}

static void expect_error(const char *text, int line, int col, const char *keypath,
    const char *msg)
{
	struct config cfg;
	struct config_err err;

	ASSERT_EQ(parse(text, &cfg, &err), WD_ECONFIG);
	if (err.line != line || err.col != col || strcmp(err.keypath, keypath) ||
	    !strstr(err.msg, msg))
		FAIL_("got %d:%d %s: %s; want %d:%d %s: %s", err.line, err.col, err.keypath,
		    err.msg, line, col, keypath, msg);
}

TEST_IMPL(config_errors)
{
	expect_error("{\"version\": 1, \"gates\": [], \"bogus\": 1}", 1, 29, "bogus",
	    "unknown key");
	expect_error("{\"version\": 1,\n \"gates\": [\n  {\"name\": \"a\", \"type\": \"command\", "
	    "\"include\": [\"*\"], \"command\": \"ls\"}]}", 3, 54, "gates[0].command",
	    "expected an array");
	expect_error("{\"version\": 1, \"gates\": [{\"name\": \"a\", \"type\": \"nope\", "
	    "\"include\": [\"*\"]}]}", 1, 40, "gates[0].type", "unknown gate type");
	expect_error("{\"version\": 1, \"gates\": [{\"name\": \"a\", \"type\": \"command\", "
	    "\"include\": [\"\"], \"command\": [\"x\"]}]}", 1, 71, "gates[0].include[0]",
	    "empty pattern");
	expect_error("{\"version\": 1, \"gates\": [\n {\"name\": \"a\", \"type\": \"command\", "
	    "\"include\": [\"*\"], \"command\": [\"x\"]},\n {\"name\": \"a\", \"type\": \"command\", "
	    "\"include\": [\"*\"], \"command\": [\"x\"]}]}", 3, 3, "gates[1].name",
	    "duplicate gate name");
	expect_error("{\"version\": 1, \"debounce_ms\": \"5\", \"gates\": []}", 1, 16,
	    "debounce_ms", "expected an integer");
	expect_error("{\"version\": 1, \"jobs\": 1, \"jobs\": 2, \"gates\": []}", 1, 27, "jobs",
	    "duplicate key");
	expect_error("{\"version\": 1,\n \"gates\": [}", 2, 12, "", "invalid JSON");
	expect_error("{\"version\": 1, \"gates\": [{\"name\": \"a\", \"type\": \"command\", "
	    "\"include\": [\"*\"]}]}", 1, 26, "gates[0]", "needs \"command\"");
	expect_error("{\"version\": 1,\n \"remote_cache\": {\"url\": \"ftp://x\"}, \"gates\": []}",
	    2, 19, "remote_cache.url", "http:// or https://");
	expect_error("{\"version\": 1, \"remote_cache\": {\"read\": true}, \"gates\": []}", 1, 16,
	    "remote_cache", "missing \"url\"");
	expect_error("{\"version\": 1, \"remote_cache\": {\"url\": \"http://h\", \"write\": 1},"
	    " \"gates\": []}", 1, 52, "remote_cache.write", "expected true or false");
	expect_error("{\"version\": 1, \"remote_cache\": {\"url\": \"http://h\", \"tls\": 1},"
	    " \"gates\": []}", 1, 52, "remote_cache.tls", "unknown key");
	return 0;
}

static void expect_triggers(const char *gate_json, const char *const *want, bool tests)
{
	struct config cfg;
	struct config_err err;
	char *text = xasprintf("{\"version\": 1, \"gates\": [%s]}", gate_json);
	size_t n = 0;

	if (parse(text, &cfg, &err) != 0)
		FAIL_("%s: %s", gate_json, err.msg);
	while (want[n])
		n++;
	ASSERT_EQ(cfg.gates[0].tests, tests);
	if (cfg.gates[0].triggers.n != n)
		FAIL_("%s: %zu triggers, want %zu", gate_json, cfg.gates[0].triggers.n, n);
	for (size_t i = 0; i < n; i++)
		ASSERT_STR_EQ(cfg.gates[0].triggers.v[i], want[i]);
	if (tests)
		ASSERT_EQ(cfg.gates[0].cache, GATE_CACHE_PASS_ONLY);
	{
		/* config print shows them, an explicit [] too */
		cJSON *j = config_to_json(&cfg);
		const cJSON *g = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(j, "gates"), 0);
		const cJSON *t = cJSON_GetObjectItemCaseSensitive(g, "triggers");

		if (tests || n)
			ASSERT_EQ((size_t)cJSON_GetArraySize(t), n);
		else
			ASSERT_NULL(t);
		cJSON_Delete(j);
	}
	config_release(&cfg);
	free(text);
}

/* A test gate without "triggers" depends on the code its tests exercise:
 * it gets default triggers so that code is part of its cache key. */
TEST_IMPL(config_default_triggers)
{
	static const char *const pwsh[] = { "**/*.ps1", "**/*.psm1", "**/*.psd1", NULL };
	static const char *const py[] = { "**/*.py", NULL };
	static const char *const py_rb[] = { "**/*.py", "**/*.rb", NULL };
	static const char *const any[] = { "**", NULL };
	static const char *const none[] = { NULL };
	static const char *const own[] = { "src/**", NULL };
#define JUNIT(inc) "{\"name\": \"t\", \"type\": \"command\", \"parser\": \"junit\", " \
	"\"command\": [\"pytest\", \"--junitxml={report}\", \"{files}\"], \"include\": " inc

	expect_triggers("{\"name\": \"p\", \"type\": \"pester\", \"include\": [\"**/*.Tests.ps1\"]}",
	    pwsh, true);
	expect_triggers(JUNIT("[\"tests/**/test_*.py\", \"tests/*_test.py\"]}"), py, true);
	expect_triggers(JUNIT("[\"tests/test_*.py\", \"spec/*_spec.rb\"]}"), py_rb, true);
	/* no extension to go by: every file */
	expect_triggers(JUNIT("[\"tests/test_*.py\", \"tests/**\"]}"), any, true);
	expect_triggers(JUNIT("[\"t/*.[ch]\"]}"), any, true);
	/* given triggers stand; an explicit [] opts out */
	expect_triggers(JUNIT("[\"tests/test_*.py\"], \"triggers\": [\"src/**\"]}"), own, true);
	expect_triggers(JUNIT("[\"tests/test_*.py\"], \"triggers\": []}"), none, true);
	/* linters get none */
	expect_triggers("{\"name\": \"sh\", \"type\": \"command\", \"include\": [\"**/*.sh\"], "
	    "\"command\": [\"shellcheck\", \"{files}\"], \"parser\": \"gcc\"}", none, false);
#undef JUNIT
	/* "**" as a trigger reaches every file */
	ASSERT(glob_match("**", "README.md"));
	ASSERT(glob_match("**", "a/b/c.txt"));
	ASSERT(glob_match("**/*.py", "foo.py"));
	return 0;
}

/* A command template's placeholders: {files} once and whole, never with
 * {file}, never as the program, and no placeholder watchd does not know. */
TEST_IMPL(config_command_placeholders)
{
#define PRE "{\"version\": 1, \"gates\": [\n {\"name\": \"ok\", \"type\": \"command\", " \
	"\"include\": [\"*\"], \"command\": [\"true\"]},\n {\"name\": \"a\", \"type\": " \
	"\"command\", \"include\": [\"*\"], \"command\": "
	struct config cfg;
	struct config_err err;
	const char *ok = PRE "[\"{root}/lint\", \"--in={file}\", \"--out={file}.out\", "
	    "\"--report={report}\", \"{\\\"a\\\": 1}\", \"{}\"]}]}";

	expect_error(PRE "[\"x\", \"{files}\", \"{files}\"]}]}", 3, 81, "gates[1].command[2]",
	    "{files} may appear only once");
	expect_error(PRE "[\"x\", \"{files}\", \"--in={file}\"]}]}", 3, 81, "gates[1].command[2]",
	    "{files} and {file} cannot both be used");
	expect_error(PRE "[\"x\", \"{file}\", \"{files}\"]}]}", 3, 80, "gates[1].command[2]",
	    "{files} and {file} cannot both be used");
	expect_error(PRE "[\"{files}\"]}]}", 3, 65, "gates[1].command[0]",
	    "the program must be named");
	expect_error(PRE "[\"x\", \"--{bogus}=1\"]}]}", 3, 70, "gates[1].command[1]",
	    "unknown placeholder {bogus}");
	/* {file} may repeat, {root} may start the program, other braces are text */
	ASSERT_OK(parse(ok, &cfg, &err));
	ASSERT_EQ(cfg.gates[1].batching, GATE_BATCH_ONE);
	ASSERT_EQ(cfg.gates[1].wants_report, true);
	config_release(&cfg);
	return 0;
#undef PRE
}

/* The commit-msg gate: no include needed, its own keys checked with
 * positions and key paths. */
TEST_IMPL(config_commit_msg_gate)
{
	struct config cfg;
	struct config_err err;
	const struct commit_msg_opts *o;
	const char *text = "{\"version\": 1, \"gates\": [\n"
	    " {\"name\": \"msg\", \"type\": \"commit-msg\", \"types\": [\"feat\", \"fix\"],\n"
	    "  \"scopes\": [\"core\"], \"max_subject\": 72}]}";

	ASSERT_OK(parse(text, &cfg, &err));
	ASSERT_EQ(cfg.ngates, 1);
	ASSERT_EQ(cfg.gates[0].include.n, 0);
	ASSERT(cfg.gates[0].ops->message);
	o = commit_msg_gate_opts(&cfg.gates[0]);
	ASSERT_NOT_NULL(o);
	ASSERT_EQ(o->types->n, 2);
	ASSERT_STR_EQ(o->scopes->v[0], "core");
	ASSERT_EQ(o->max_subject, 72);
	config_release(&cfg);
	/* include is accepted but never used: no file batch for this gate */
	ASSERT_OK(parse("{\"version\": 1, \"gates\": [{\"name\": \"m\", \"type\": \"commit-msg\", "
	    "\"include\": [\"**\"]}]}", &cfg, &err));
	ASSERT_EQ(cfg.gates[0].include.n, 0);
	ASSERT(!gate_matches(&cfg.gates[0], "a.py"));
	config_release(&cfg);
#define PRE "{\"version\": 1, \"gates\": [\n {\"name\": \"m\", \"type\": \"commit-msg\", "
	expect_error(PRE "\"types\": \"feat\"}]}", 2, 38, "gates[0].types", "expected an array");
	expect_error(PRE "\"types\": [\"feat\", \"two words\"]}]}", 2, 56, "gates[0].types[1]",
	    "not a type");
	expect_error(PRE "\"scopes\": [\"a(b)\"]}]}", 2, 49, "gates[0].scopes[0]", "not a scope");
	expect_error(PRE "\"max_subject\": -1}]}", 2, 38, "gates[0].max_subject", "");
	expect_error(PRE "\"command\": [\"x\"]}]}", 2, 38, "gates[0].command", "unknown key");
#undef PRE
	return 0;
}
