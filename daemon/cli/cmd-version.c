/* watchd version: the program and library versions. */
#include <stdio.h>

#include <cjson/cJSON.h>
#include <git2.h>
#include <sqlite3.h>
#include <uv.h>

#include "cli.h"
#include "daemon/version.h"

static int cmd_version_exec(struct cli_ctx *, const struct args *);

const struct cmd_entry cmd_version_entry = {
	.name = "version",
	.usage = "",
	.help = "print the version",
	.exec = cmd_version_exec,
};

static int cmd_version_exec(struct cli_ctx *ctx, const struct args *args)
{
	int maj, min, rev;

	(void)ctx;
	(void)args;
	git_libgit2_version(&maj, &min, &rev);
	printf("watchd %s (libuv %s, sqlite %s, libgit2 %d.%d.%d, cJSON %s)\n", WATCHD_VERSION,
	    uv_version_string(), sqlite3_libversion(), maj, min, rev, cJSON_Version());
	return WD_EXIT_OK;
}
