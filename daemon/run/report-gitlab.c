/* GitLab Code Quality report (artifacts:reports:codequality): a JSON array
 * of issues, each with a description, check_name, fingerprint, severity
 * and location.path/lines.begin, which merge requests show as a widget and
 * in the diff. The fingerprint leaves the line out, so an issue keeps its
 * identity when code above it moves; identical issues in one file are told
 * apart by their order. Pure: a run in, text out. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/git/repo.h"
#include "lib/hmap.h"
#include "lib/xmalloc.h"
#include "report.h"


/* Code Quality's scale: info, minor, major, critical, blocker */
static const char *cq_severity(const char *sev)
{
	if (sev && strcmp(sev, "warning") == 0)
		return "minor";
	if (sev && strcmp(sev, "info") == 0)
		return "info";
	return "major";
}

void report_codequality(const cJSON *run, struct buf *b)
{
	cJSON *doc = cJSON_CreateArray();
	const cJSON *g, *f;
	struct hmap seen = HMAP_INIT;	/* identity -> occurrences so far */
	size_t it = 0;
	struct hmap_slot *sl;
	char *s;

	cJSON_ArrayForEach(g, cJSON_GetObjectItemCaseSensitive(run, "gates")) {
		cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(g, "findings")) {
			const char *path = report_str(f, "path"), *code = report_str(f, "code");
			const char *msg = report_str(f, "message") ? report_str(f, "message") : "";
			char *key, fp[OID_HEX + 1], *check;
			size_t *nth;
			cJSON *issue, *loc;

			/* a finding of the gate as a whole has no place in a diff */
			if (path == NULL)
				continue;
			key = xasprintf("%s\x1f%s\x1f%s\x1f%s", report_str(g, "name"), path, code ? code : "",
			    msg);
			nth = hmap_gets(&seen, key);
			if (nth == NULL) {
				nth = xcalloc(1, sizeof(*nth));
				hmap_puts(&seen, key, nth);
			}
			{
				char *k2 = xasprintf("%s\x1f%zu", key, (*nth)++);

				repo_hash_buf(k2, strlen(k2), fp);
				free(k2);
			}
			free(key);
			issue = cJSON_CreateObject();
			cJSON_AddStringToObject(issue, "type", "issue");
			check = code ? xasprintf("%s/%s", report_str(g, "name"), code) :
			    xstrdup(report_str(g, "name"));
			cJSON_AddStringToObject(issue, "check_name", check);
			free(check);
			cJSON_AddStringToObject(issue, "description", *msg ? msg : report_str(g, "name"));
			cJSON_AddStringToObject(issue, "fingerprint", fp);
			cJSON_AddStringToObject(issue, "severity", cq_severity(report_str(f, "severity")));
			loc = cJSON_AddObjectToObject(issue, "location");
			cJSON_AddStringToObject(loc, "path", path);
			cJSON_AddNumberToObject(cJSON_AddObjectToObject(loc, "lines"), "begin",
			    report_num(f, "line") > 0 ? report_num(f, "line") : 1);
			cJSON_AddItemToArray(doc, issue);
		}
	}
	while ((sl = hmap_next(&seen, &it)) != NULL)
		free(sl->val);
	hmap_release(&seen);
	s = cJSON_Print(doc);
	buf_addstr(b, s);
	buf_addch(b, '\n');
	cJSON_free(s);
	cJSON_Delete(doc);
}
