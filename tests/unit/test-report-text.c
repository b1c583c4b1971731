/* The text a person reads for a run (report-text.c): the summary line,
 * findings sorted by file, line and column, the cap and its pointer to
 * `watchd show`, a quoted file name, and the "all gates pass again" line. */
#include "daemon/run/report-text.h"
#include "test.h"

static cJSON *parse(const char *s)
{
	cJSON *o = cJSON_Parse(s);

	ASSERT_NOT_NULL(o);
	return o;
}

#define RUN_FAIL \
	"{\"id\":\"01JD0000000000000000000000\",\"status\":\"fail\",\"gates\":[" \
	"{\"name\":\"lint\",\"status\":\"fail\",\"files\":[\"b.c\",\"a.c\"],\"findings\":[" \
	"{\"path\":\"b.c\",\"line\":2,\"col\":1,\"code\":\"X2\",\"message\":\"two\"}," \
	"{\"path\":\"a.c\",\"line\":9,\"col\":3,\"code\":null,\"message\":\"nine\"}," \
	"{\"path\":\"a.c\",\"line\":9,\"col\":1,\"code\":\"X9\",\"message\":\"nine\\nlines\"}," \
	"{\"path\":null,\"line\":0,\"col\":0,\"code\":null,\"message\":\"whole\"}]}," \
	"{\"name\":\"tests\",\"status\":\"missing\",\"files_count\":1,\"findings\":[]," \
	"\"message\":\"pytest not found\"}]}"

TEST_IMPL(report_text_run_sorted_by_file)
{
	cJSON *run = parse(RUN_FAIL);
	struct buf b = BUF_INIT;

	report_text_run(run, NULL, NULL, REPORT_TEXT_CAP, &b);
	ASSERT_STR_EQ(b.buf,
	    "run 01JD0000000000000000000000 fail: lint fail (2 files, 4 findings), "
	    "tests missing (1 file)\n"
	    "a.c:9:1: X9 nine lines [lint]\n"
	    "a.c:9:3: nine [lint]\n"
	    "b.c:2:1: X2 two [lint]\n"
	    "whole [lint]\n"
	    "tests: missing: pytest not found\n");
	buf_release(&b);
	cJSON_Delete(run);
	return 0;
}

TEST_IMPL(report_text_run_capped)
{
	cJSON *run = parse(RUN_FAIL), *g;
	struct buf b = BUF_INIT;

	/* the event shape: the list was capped, findings_count says how many */
	g = cJSON_GetArrayItem(cJSON_GetObjectItem(run, "gates"), 0);
	cJSON_AddNumberToObject(g, "findings_count", 1004);
	report_text_run(run, NULL, NULL, 2, &b);
	ASSERT_CONTAINS(b.buf, "lint fail (2 files, 1004 findings)");
	ASSERT_CONTAINS(b.buf, "a.c:9:3: nine [lint]\n");
	ASSERT(strstr(b.buf, "b.c:2:1") == NULL);
	ASSERT_CONTAINS(b.buf, "... 1002 more: watchd show 01JD0000000000000000000000\n");
	buf_release(&b);
	cJSON_Delete(run);
	return 0;
}

TEST_IMPL(report_text_finding_quotes_names)
{
	cJSON *f = parse("{\"path\":\"x\\ny.sh\",\"line\":3,\"col\":0,\"code\":\"SC1\","
	    "\"message\":\"m\"}");
	struct buf b = BUF_INIT;

	report_text_finding(f, "sh", &b);
	/* a newline in a name cannot forge a line; no column when there is none */
	ASSERT_STR_EQ(b.buf, "\"x\\ny.sh\":3: SC1 m [sh]\n");
	buf_release(&b);
	cJSON_Delete(f);
	return 0;
}

TEST_IMPL(report_text_pass_again)
{
	cJSON *run = parse("{\"id\":\"R\",\"status\":\"pass\",\"gates\":[{\"name\":\"lint\","
	    "\"status\":\"pass\",\"files\":[\"a.c\"],\"findings\":[]}]}");
	cJSON *before = parse("[{\"name\":\"lint\",\"status\":\"fail\",\"failing_files\":2,"
	    "\"findings\":3},{\"name\":\"sh\",\"status\":\"pass\",\"findings\":0}]");
	cJSON *half = parse("[{\"name\":\"lint\",\"status\":\"fail\",\"failing_files\":1,"
	    "\"findings\":1},{\"name\":\"sh\",\"status\":\"pass\",\"findings\":0}]");
	cJSON *after = parse("[{\"name\":\"lint\",\"status\":\"pass\",\"findings\":0},"
	    "{\"name\":\"sh\",\"status\":\"pass\",\"findings\":0}]");
	struct buf b = BUF_INIT;

	report_text_run(run, before, half, REPORT_TEXT_CAP, &b);
	ASSERT_STR_EQ(b.buf, "run R pass: lint pass (1 file); still failing: lint fail "
	    "(1 file, 1 finding)\n");
	buf_setlen(&b, 0);
	report_text_run(run, half, after, REPORT_TEXT_CAP, &b);
	ASSERT_STR_EQ(b.buf, "run R pass: all gates pass again (fixed 1 finding)\n");
	/* nothing was failing: an ordinary summary */
	buf_setlen(&b, 0);
	report_text_run(run, after, after, REPORT_TEXT_CAP, &b);
	ASSERT_STR_EQ(b.buf, "run R pass: lint pass (1 file)\n");
	buf_release(&b);
	cJSON_Delete(run);
	cJSON_Delete(before);
	cJSON_Delete(half);
	cJSON_Delete(after);
	return 0;
}
