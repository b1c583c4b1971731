/* The cache's key filter: which (gate, path, cache key) the cache may
 * hold, kept in memory so that looking up content no gate has judged costs
 * no query.
 *
 * Why. A burst of new content (a formatter over the tree, a branch never
 * checked out before) misses the cache for every file, and each miss was
 * two point queries (the stage, then the cache): a tenth of the daemon's
 * CPU over a series of 10,000-file bursts. A Bloom filter answers "never
 * recorded" for nearly all of them; a "maybe" goes to the queries as
 * before, so a hit is found exactly as without the filter.
 *
 * What keeps it exact (no key the cache holds is ever answered "no"):
 *   - every cache row this connection writes, staged or direct, is added
 *     as it is written (a rolled-back write leaves a key too many, which
 *     only costs a query);
 *   - another process's writes (a hook's `check`, `watchd run`) are seen
 *     by PRAGMA data_version, which changes when another connection
 *     commits: the filter is then out of date and unused until rebuilt;
 *   - rows deleted (gc) leave keys too many, as above.
 * A rebuild reads every key of the cache (and the stage): it is made
 * once at open, on the opening thread, and then only for a batch big
 * enough that its lookups would cost more than the scan. Until then the
 * queries answer, as they did before the filter. Only a connection that
 * asked for it (ledger_keyfilter: the daemon's) has one. */
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "ledger-internal.h"
#include "lib/hmap.h"
#include "lib/log.h"

/* A rebuild reads a key in about a tenth of a lookup's time: worth it for
 * a batch of at least a sixteenth of the keys, and never for a small one. */
#define KF_REBUILD_MIN_FILES	256
#define KF_REBUILD_SHARE	16

/* The three parts hashed apart and chained: ("ab", "c") and ("a", "bc")
 * differ, and the filter remixes the result (lib/bloom.c). */
static uint64_t key_hash(const char *gate, const char *path, const char *cache_key)
{
	const uint64_t k = 0x9e3779b97f4a7c15ULL;
	uint64_t h = hmap_hash(gate, strlen(gate));

	h = (h * k) ^ hmap_hash(path, strlen(path));
	return (h * k) ^ hmap_hash(cache_key, strlen(cache_key));
}

/* PRAGMA data_version: changes when another connection commits. */
static int data_version(struct ledger *l, int64_t *v)
{
	sqlite3_stmt *s = ledger__stmt(l, ST_DATA_VERSION, NULL);
	int rc;

	if (s == NULL)
		return -1;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*v = sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	return rc == SQLITE_ROW ? 0 : -1;
}

static int scan(struct ledger *l, const char *sql, struct bloom *b, size_t *rows, bool count)
{
	sqlite3_stmt *s = NULL;
	int rc = sqlite3_prepare_v2(l->db, sql, -1, &s, NULL);

	while (rc == SQLITE_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (count)
			*rows += (size_t)sqlite3_column_int64(s, 0);
		else
			bloom_add(b, key_hash(col_text(s, 0), col_text(s, 1), col_text(s, 2)));
		rc = SQLITE_OK;
	}
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? 0 : rc;
}

/* A new filter from every key of the cache and the stage, read in one
 * snapshot with the data_version it answers for. */
static int build(struct ledger *l, struct wd_err *err)
{
	const bool stage = l->stage_on;
	struct bloom b = BLOOM_INIT;
	size_t rows = 0;
	int64_t v = 0;
	bool own = sqlite3_get_autocommit(l->db) != 0;
	uint64_t t0 = log_stage_start();
	int rc;

	if (own && (rc = ledger__begin(l, false, err)))
		return rc;
	rc = data_version(l, &v) != 0 ? SQLITE_ERROR : 0;
	if (rc == 0)
		rc = scan(l, stage ? "SELECT count(*) FROM main.cache UNION ALL"
		    " SELECT count(*) FROM temp.stage WHERE cache_key IS NOT NULL" :
		    "SELECT count(*) FROM main.cache", NULL, &rows, true);
	if (rc == 0) {
		bloom_init(&b, rows);
		rc = scan(l, stage ? "SELECT gate, path, cache_key FROM main.cache UNION ALL"
		    " SELECT gate, path, cache_key FROM temp.stage WHERE cache_key IS NOT NULL" :
		    "SELECT gate, path, cache_key FROM main.cache", &b, NULL, false);
	}
	if (rc != 0) {
		bloom_release(&b);
		l->kf_ok = false;
		/* a snapshot of the caller's ends too: its lookups take their own */
		return ledger__fail(l, rc, "cannot read the cache's keys", err);
	}
	if (own)
		ledger__abort(l);	/* ends the read transaction */
	bloom_release(&l->kf);
	l->kf = b;
	l->kf_version = v;
	l->kf_rows = rows;
	l->kf_ok = true;
	log_stage("keyfilter", rows, t0);
	return 0;
}

int ledger_keyfilter(struct ledger *l, struct wd_err *err)
{
	if (l->mode != LEDGER_WRITE)
		return wd_err_set(err, WD_ELEDGER, "ledger '%s': a read connection has no key "
		    "filter", l->path);
	l->kf_on = true;
	return build(l, err);
}

void ledger_cache_prepare(struct ledger *l, size_t nfiles)
{
	int64_t v;

	if (l == NULL || !l->kf_on)
		return;
	if (l->kf_ok && (data_version(l, &v) != 0 || v != l->kf_version))
		l->kf_ok = false;
	if ((!l->kf_ok || bloom_full(&l->kf)) && nfiles >= KF_REBUILD_MIN_FILES &&
	    nfiles >= l->kf_rows / KF_REBUILD_SHARE && build(l, NULL) != 0)
		log_warnx("ledger '%s': cache lookups go without the key filter", l->path);
}

bool ledger__keyfilter_miss(const struct ledger *l, const char *gate, const char *path,
    const char *cache_key)
{
	return l->kf_on && l->kf_ok && !bloom_maybe(&l->kf, key_hash(gate, path, cache_key));
}

void ledger__keyfilter_add(struct ledger *l, const char *gate, const char *path,
    const char *cache_key)
{
	if (l->kf_on && gate && path && cache_key)
		bloom_add(&l->kf, key_hash(gate, path, cache_key));
}
