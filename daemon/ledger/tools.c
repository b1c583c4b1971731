/* The tool version cache: what `tool --version` printed, per executable
 * identity, so a run whose results are all cached starts no process. */
#include <stdlib.h>

#include <sqlite3.h>

#include "ledger-internal.h"
#include "lib/xmalloc.h"

static void bind_tool(sqlite3_stmt *s, const struct ledger_tool *t)
{
	bind_text(s, 1, t->path);
	sqlite3_bind_int64(s, 2, t->dev);
	sqlite3_bind_int64(s, 3, t->ino);
	sqlite3_bind_int64(s, 4, t->size);
	sqlite3_bind_int64(s, 5, t->mtime_ns);
}

int ledger_tool_version(struct ledger *l, const struct ledger_tool *tool, char **version)
{
	sqlite3_stmt *s;
	int rc;

	*version = NULL;
	if (l->schema < 5)
		return 0;
	if ((s = ledger__stmt(l, ST_TOOL_GET, NULL)) == NULL)
		return WD_ELEDGER;
	bind_tool(s, tool);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*version = xstrdup(col_text(s, 0) ? col_text(s, 0) : "");
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	if (rc == SQLITE_ROW)
		return 1;
	return rc == SQLITE_DONE ? 0 : WD_ELEDGER;
}

int ledger_tool_version_put(struct ledger *l, const struct ledger_tool *tool,
    const char *version, struct wd_err *err)
{
	sqlite3_stmt *s;
	int rc;

	if (l->mode != LEDGER_WRITE || l->schema < 5)
		return 0;
	if ((rc = ledger__begin(l, true, err)))
		return rc;
	if ((s = ledger__stmt(l, ST_TOOL_PUT, err)) == NULL) {
		ledger__abort(l);
		return WD_ELEDGER;
	}
	bind_tool(s, tool);
	bind_text(s, 6, version);
	sqlite3_bind_int64(s, 7, now_ms());
	if ((rc = ledger__step(l, s, "cannot record a tool version", err)))
		return rc;
	return ledger__commit(l, err);
}
