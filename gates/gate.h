/* The gate executor interface. One executor per config "type", registered
 * in registry.c. An executor does no I/O of its own: the scheduler builds
 * the argv through it, daemon/spawn.c runs the process, and the executor
 * reads the captured output back into a status and findings. */
#ifndef WD_GATE_H
#define WD_GATE_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "lib/strvec.h"

struct jsonget_err;

enum gate_status {
	GATE_PASS,
	GATE_FAIL,
	GATE_ERROR,		/* the tool broke, or its output could not be read */
	GATE_TIMEOUT,
	GATE_MISSING,		/* the tool is not installed */
	GATE_SKIPPED,
};

/* How a batch of files reaches the tool's argv. */
enum gate_batching {
	GATE_BATCH_FILES,	/* many files per process ({files}), split like xargs */
	GATE_BATCH_ONE,		/* one process per file ({file}) */
	GATE_BATCH_NONE,	/* no file names: one process per batch (`make lint`) */
};

enum gate_busy {
	GATE_BUSY_QUEUE,	/* a file changed while its gate runs: run again after */
	GATE_BUSY_RESTART,	/* kill the running process group and start over */
};

enum gate_cache {
	GATE_CACHE_ALL,		/* reuse any earlier result for the same input */
	GATE_CACHE_PASS_ONLY,	/* reuse passes only; failures always re-run */
	GATE_CACHE_NONE,
};

struct gate_map_rule {
	char	*from;		/* "src/{name}.py" */
	char	*to;		/* "tests/test_{name}.py" */
};

/* One configured gate. Owned by struct config; released by gate_release(). */
struct gate {
	char			*name;
	char			*type;
	const struct gate_ops	*ops;
	int			 index;		/* position in "gates" */
	struct strvec		 include;	/* globs of files the gate runs on */
	struct strvec		 exclude;
	struct strvec		 triggers;	/* globs whose change re-runs the gate */
	struct gate_map_rule	*map;		/* trigger file -> test file rules */
	size_t			 nmap;
	struct strvec		 config_files;	/* part of the fingerprint, watched */
	struct strvec		 command;	/* argv template (command gates) */
	char			*parser;	/* output parser (command gates) */
	char			*settings;	/* PSScriptAnalyzer settings file */
	int			 timeout_s;	/* kill the process group after this */
	int			 batch_size;	/* max files per process; 0: argv budget */
	enum gate_batching	 batching;
	enum gate_busy		 busy;
	enum gate_cache		 cache;
	bool			 wants_report;	/* argv uses a {report} temp file */
	bool			 tests;		/* runs tests: judged on the whole input set */
	char			*definition;	/* canonical JSON of the gate's config */
	void			*priv;		/* executor-private, freed by ops->release */
};

/* One finding. All strings are owned by the findings list. Numbers are
 * 1-based; 0 means unknown. */
struct finding {
	char	*path;		/* relative to ROOT when the file is inside it */
	int	 line, col, end_line, end_col;
	char	*code;		/* rule id ("F401"), or NULL */
	char	*severity;	/* "error", "warning", "info" */
	char	*message;
	char	*url;		/* rule documentation, or NULL */
	bool	 fixable;
};

struct findings {
	struct finding	*v;
	size_t		 n;
	size_t		 alloc;
};

/* Appends a copy of *f (strings duplicated; NULL stays NULL). */
void findings_add(struct findings *fs, const struct finding *f);
void findings_release(struct findings *fs);

/* What a finished tool process left behind. Everything is borrowed. */
struct gate_output {
	const char		*root;		/* absolute ROOT */
	const char *const	*files;		/* the batch, relative to ROOT */
	size_t			 nfiles;
	int			 exit_code;
	int			 term_signal;	/* 0 unless killed by a signal */
	const char		*out;		/* stdout, up to limit bytes */
	size_t			 out_len;
	bool			 out_truncated;	/* more than limit came */
	const char		*err;		/* stderr, up to limit bytes */
	size_t			 err_len;
	bool			 err_truncated;
	size_t			 limit;		/* bytes read per stream for parsing */
	const char		*report;	/* contents of {report}, or NULL */
	size_t			 report_len;
};

/* What a parser makes of it. Initialise with GATE_RESULT_INIT. */
struct gate_result {
	enum gate_status	 status;
	struct findings		 findings;
	char			*message;	/* malloc'ed one-line reason, or NULL */
	int			 tests_total;	/* -1 unless the gate runs tests */
	int			 tests_passed;
	int			 tests_failed;
	int			 tests_skipped;
	/* The process did not end as the tool ends a run it completed: it
	 * exited with a code other than 0 and the tool's findings code, or
	 * left output the parser could not read. Its verdict is then not
	 * split per file: the scheduler re-runs the files in halves, or the
	 * result stands as GATE_ERROR, and nothing of it is cached. */
	bool			 abnormal;
};

#define GATE_RESULT_INIT { GATE_PASS, { NULL, 0, 0 }, NULL, -1, -1, -1, -1, false }
void gate_result_release(struct gate_result *r);
/* Sets r->message (replacing it) from a format. */
void gate_result_msg(struct gate_result *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Parses tool output into r. Called only for processes that exited on
 * their own (no signal, no timeout). Returns 0; a parse failure is not an
 * error code but r->status = GATE_ERROR with r->message saying why. */
typedef int gate_parse_fn(const struct gate *g, const struct gate_output *out,
    struct gate_result *r);

struct gate_ops {
	const char		*type;		/* config "type" */
	const char *const	*keys;		/* extra config keys; NULL-terminated or NULL */
	/* Reads the type's own keys (those in keys) from obj, the gate's
	 * object, whose key path is path ("gates[2]"); the common keys are
	 * already in g. Sets defaults. 0, or WD_ECONFIG with err filled
	 * (lib/jsonget: key path and message; the caller adds the position). */
	int	(*configure)(struct gate *g, const cJSON *obj, const char *path,
		    struct jsonget_err *err);
	/* Builds the argv for one batch: root is the absolute ROOT (the
	 * tool's cwd), files are relative to it; report is a fresh temporary
	 * path or NULL. 0 or negative code. */
	int	(*argv)(const struct gate *g, const char *root, const char *const *files,
		    size_t n, const char *report, struct strvec *argv);
	gate_parse_fn	*parse;
	/* argv that prints the tool's version (fingerprint); NULL: none. */
	int	(*version_argv)(const struct gate *g, struct strvec *argv);
	const char	*install_hint;	/* shown when the tool is missing */
	/* A test gate's "triggers" when the config names none (NULL-terminated),
	 * or NULL: every file with an extension of its include globs. */
	const char *const *default_triggers;
	/* Judges the commit message, in process, not files: takes no
	 * include globs, so no file batch is ever planned for it (`check
	 * --commit-msg` runs it). */
	bool	message;
	void	(*release)(struct gate *g);	/* frees g->priv; or NULL */
};

/* The registry: NULL when type is unknown. */
const struct gate_ops *gate_ops_find(const char *type);
/* Comma-separated list of known types, for error messages. */
const char *gate_types(void);

const char *gate_status_name(enum gate_status s);
/* -1 when unknown. */
int gate_status_parse(const char *name);
/* Appends a file name to argv so that it can never read as an option:
 * a name starting with '-' goes in as "./-name". */
void gate_push_path(struct strvec *argv, const char *path);
/* path as a finding path: a leading "./" is stripped and a path under the
 * absolute root is made relative to it; anything else is kept as given.
 * root may be NULL. Returns a malloc'ed string, or NULL when path is NULL. */
char *gate_relpath(const char *root, const char *path);
/* For parsers that read the tool's stdout (and stderr too when err):
 * true when they have the whole stream. Otherwise r becomes GATE_ERROR
 * with a message saying the output passed the parse limit, and the
 * parser should return: a cut stream would lose findings or not parse. */
bool gate_output_whole(const struct gate_output *out, bool err, struct gate_result *r);
/* A short one-line excerpt of tool output for r->message: whitespace runs
 * become one space, at most about 100 bytes, "..." when cut. malloc'ed;
 * "(empty)" for no output. */
char *gate_excerpt(const char *s, size_t len);
/* Parses a whole JSON document (a UTF-8 BOM and surrounding whitespace
 * allowed). NULL when it is not valid JSON; then *bad (if not NULL) points
 * near the offending byte. The caller cJSON_Delete()s the result. */
cJSON *gate_json_parse(const char *text, size_t len, const char **bad);
/* Skips a UTF-8 byte order mark: returns text past it, adjusting *len. */
const char *gate_skip_bom(const char *text, size_t *len);
/* The batch file a path from a tool's output stands for: path itself when
 * it is one of out->files, else the single batch file whose name ends in
 * a newline followed by path (line-based output cuts such a name at its
 * last newline). NULL when none or several do. Borrowed from out->files. */
const char *gate_batch_file(const struct gate_output *out, const char *path);
/* A file name for text output: itself, or in double quotes with C-style
 * escapes (\n, \t, \", \\, \ooo) when it holds a control character, a
 * double quote or a backslash, as git quotes names. malloc'ed. */
char *gate_quote_path(const char *path);
/* For configure(): adds a file the tool reads on its own (ruff's
 * pyproject.toml, PSScriptAnalyzer's settings) to g->config_files unless
 * it is listed already, so that it is part of the fingerprint, watched,
 * and copied for `check --staged` like a file the user listed. path is
 * relative to ROOT; a "./" prefix is dropped. */
void gate_add_config_file(struct gate *g, const char *path);
/* True when the gate runs on path, relative to ROOT: an include glob
 * matches it and no exclude glob matches it or a directory above it. */
bool gate_matches(const struct gate *g, const char *path);
/* Frees the gate's contents (calls ops->release). */
void gate_release(struct gate *g);

#endif
