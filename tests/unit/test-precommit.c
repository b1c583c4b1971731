/* config/precommit.c without the CLI: YAML in, gates and rows out. */
#include <string.h>

#include "config/precommit.h"
#include "test.h"

static const cJSON *gate(const struct precommit *pc, const char *name)
{
	const cJSON *g;

	cJSON_ArrayForEach(g, pc->gates)
		if (strcmp(cJSON_GetObjectItem(g, "name")->valuestring, name) == 0)
			return g;
	return NULL;
}

static char *compact(const cJSON *v)
{
	static char out[512];
	char *s = cJSON_PrintUnformatted(v);

	snprintf(out, sizeof(out), "%s", s ? s : "null");
	cJSON_free(s);
	return out;
}

TEST_IMPL(precommit_known_and_local)
{
	static const char yaml[] =
	    "default_stages: [pre-commit]\n"
	    "exclude: ^third_party/\n"
	    "repos:\n"
	    "- repo: https://github.com/astral-sh/ruff-pre-commit\n"
	    "  rev: v0.6.0\n"
	    "  hooks:\n"
	    "  - id: ruff\n"
	    "    args: [--fix, --select, E]\n"
	    "  - id: ruff-format\n"
	    "- repo: git@github.com:psf/black.git\n"
	    "  rev: 24.1.0\n"
	    "  hooks: [{id: black, files: ^src/}]\n"
	    "- repo: local\n"
	    "  hooks:\n"
	    "  - &lint {id: lint, entry: \"sh -c 'exit 0'\", language: system, files: '\\.c$'}\n"
	    "  - {id: lint, entry: make lint, language: system, pass_filenames: false}\n";
	struct precommit pc;
	struct buf err = BUF_INIT, table = BUF_INIT;

	ASSERT_OK(precommit_translate(yaml, strlen(yaml), &pc, &err));
	ASSERT_EQ(pc.nrows, 5);
	ASSERT_EQ(pc.ignore.n, 1);
	ASSERT_STR_EQ(pc.ignore.v[0], "third_party/**");
	ASSERT_STR_EQ(compact(gate(&pc, "ruff")), "{\"name\":\"ruff\",\"type\":\"ruff\","
	    "\"include\":[\"**/*.py\",\"**/*.pyi\"],\"args\":[\"--select\",\"E\"]}");
	ASSERT_STR_EQ(pc.rows[0].note, "dropped --fix (watchd gates never change files)");
	ASSERT_STR_EQ(pc.rows[0].tool, "ruff");
	ASSERT_STR_EQ(cJSON_GetObjectItem(gate(&pc, "ruff-format"), "type")->valuestring,
	    "ruff-format");
	ASSERT_STR_EQ(pc.rows[2].hook, "psf/black black");
	ASSERT_STR_EQ(compact(cJSON_GetObjectItem(gate(&pc, "black"), "include")),
	    "[\"src/**/*.py\",\"src/**/*.pyi\"]");
	ASSERT_STR_EQ(compact(cJSON_GetObjectItem(gate(&pc, "lint"), "command")),
	    "[\"sh\",\"-c\",\"exit 0\",\"{files}\"]");
	ASSERT_STR_EQ(compact(cJSON_GetObjectItem(gate(&pc, "lint"), "include")), "[\"**/*.c\"]");
	/* the same id twice: a second, unique gate name */
	ASSERT_STR_EQ(compact(cJSON_GetObjectItem(gate(&pc, "lint-2"), "command")),
	    "[\"make\",\"lint\"]");
	precommit_table(&pc, &table);
	ASSERT_CONTAINS(table.buf, "5 hooks: 5 mapped, 0 not mapped");
	ASSERT_CONTAINS(table.buf, "local lint ");
	precommit_release(&pc);
	buf_release(&table);
	buf_release(&err);
	return 0;
}

TEST_IMPL(precommit_errors)
{
	struct precommit pc;
	struct buf err = BUF_INIT;

	ASSERT_EQ(precommit_translate("a: [", 4, &pc, &err), -1);
	ASSERT_CONTAINS(err.buf, "line 2, column 1");
	buf_setlen(&err, 0);
	ASSERT_EQ(precommit_translate("- 1\n", 4, &pc, &err), -1);
	ASSERT_CONTAINS(err.buf, "no 'repos' list");
	buf_release(&err);
	return 0;
}
