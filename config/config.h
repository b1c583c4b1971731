/* watch.config.json: loading and validation. Everything is checked before
 * anything starts; every error names file:line:col and the key path.
 * config/ sits above gates/: checking a whole file needs the executor
 * table (gate_ops_find), and each executor's configure() reads its own
 * keys through lib/jsonget, so gates/ never needs this header. */
#ifndef WD_CONFIG_H
#define WD_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "gates/gate.h"
#include "lib/buf.h"
#include "lib/strvec.h"

#define CONFIG_FILE "watch.config.json"

struct config_err {
	char	file[1024];
	int	line, col;	/* 0 when unknown */
	char	keypath[256];	/* "gates[1].command"; "" for the whole file */
	char	msg[512];
};

struct config {
	char		*path;		/* the file, as given */
	char		*text;		/* its bytes, NUL-terminated */
	size_t		 text_len;
	int		 version;
	int		 debounce_ms;	/* quiet time before a batch goes out */
	int		 max_wait_ms;	/* cap on the wait under continuous churn */
	int		 stability_ms;	/* size+mtime must hold this long */
	int		 writer_timeout_ms; /* a file open for writing waits at most this */
	int		 jobs;		/* parallel tool processes; 0 = CPUs */
	struct strvec	 ignore;
	struct gate	*gates;
	size_t		 ngates;
	int		 ledger_keep_days;
	int		 ledger_keep_runs;	/* 0: no cap by count */
	/* "remote_cache": results shared over Bazel's HTTP cache protocol.
	 * url NULL: none configured (the environment may still name one). */
	struct {
		char	*url;
		bool	 read, write;
		int	 timeout_ms;
	} remote;
};

/* "FILE:LINE:COL: KEYPATH: MSG" (parts that are unknown are left out). */
void config_err_format(const struct config_err *e, struct buf *out);

/* Reads and validates path into cfg. 0, or WD_ECONFIG with err filled
 * (a missing or unreadable file is a config error too). On error cfg is
 * released. */
int config_load(const char *path, struct config *cfg, struct config_err *err);
/* Same, from memory (text need not be NUL-terminated). */
int config_parse(const char *path, const char *text, size_t len, struct config *cfg,
    struct config_err *err);
void config_release(struct config *cfg);
/* The effective configuration, defaults filled in, as JSON (cJSON_Delete). */
cJSON *config_to_json(const struct config *cfg);
/* The gate named name, or NULL. */
struct gate *config_gate(const struct config *cfg, const char *name);

/* Position (1-based line, column) of keypath (as lib/jsonget.h writes
 * them) in a JSON text: an object member's key, or an array element
 * itself, or of its nearest existing parent. Returns 0 when found exactly. */
int json_locate(const char *text, size_t len, const char *keypath, int *line, int *col);

#endif
