/* The tool-version memo: a tool's version keyed by its binary's identity,
 * so that a run answered wholly from the cache starts no process (the
 * fingerprint needs the version, and asking costs a tool start: ruff's
 * Node stand-in, pwsh, take a second or more). */
#include <stdlib.h>

#include "ledger-internal.h"
#include "lib/xmalloc.h"

int ledger_tool_version(struct ledger *l, const char *prog, int64_t size, int64_t mtime_ns,
    char **version)
{
	sqlite3_stmt *s;
	int rc;

	*version = NULL;
	if (l->schema < 5 && l->mode == LEDGER_READ)
		return 0;
	if ((s = ledger__stmt(l, ST_TOOLVER_GET, NULL)) == NULL)
		return WD_ELEDGER;
	bind_text(s, 1, prog);
	sqlite3_bind_int64(s, 2, size);
	sqlite3_bind_int64(s, 3, mtime_ns);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW && col_text(s, 0))
		*version = xstrdup(col_text(s, 0));
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	if (rc == SQLITE_ROW)
		return *version ? 1 : 0;
	return rc == SQLITE_DONE ? 0 : WD_ELEDGER;
}

int ledger_tool_version_put(struct ledger *l, const char *prog, int64_t size, int64_t mtime_ns,
    const char *version, struct wd_err *err)
{
	sqlite3_stmt *s;
	int rc;

	if (l->mode == LEDGER_READ)
		return 0;
	if ((rc = ledger__begin(l, true, err)))
		return rc;
	if ((s = ledger__stmt(l, ST_TOOLVER_PUT, err)) == NULL) {
		ledger__abort(l);
		return err ? err->code : WD_ELEDGER;
	}
	bind_text(s, 1, prog);
	sqlite3_bind_int64(s, 2, size);
	sqlite3_bind_int64(s, 3, mtime_ns);
	bind_text(s, 4, version);
	sqlite3_bind_int64(s, 5, now_ms());
	if ((rc = ledger__step(l, s, "cannot record a tool version", err)))
		return rc;
	return ledger__commit(l, err);
}
