/* watchd version: the program's version (CHANGELOG.md's latest release)
 * and the run-time version of every library it links, so that a bug
 * report names what actually ran. */
#include <stdio.h>

#include <cjson/cJSON.h>
#include <expat.h>
#include <git2.h>
#include <libssh2.h>
#include <sqlite3.h>
#include <uv.h>
#include <yaml.h>

#include "cli.h"
#include "lib/curlapi.h"
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
	XML_Expat_Version ev = XML_ExpatVersionInfo();
	const char *curl, *why;

	(void)ctx;
	(void)args;
	git_libgit2_version(&maj, &min, &rev);
	/* loaded here only to be named: other commands load it when a
	 * remote cache is set */
	curl = curl_api_load(&why) == 0 ? curl_version_info(CURLVERSION_NOW)->version : "not found";
	printf("watchd %s (libuv %s, sqlite %s, libgit2 %d.%d.%d, cJSON %s, expat %d.%d.%d, "
	    "libssh2 %s, libyaml %s, libcurl %s)\n", WATCHD_VERSION, uv_version_string(),
	    sqlite3_libversion(), maj, min, rev, cJSON_Version(), ev.major, ev.minor, ev.micro,
	    libssh2_version(0), yaml_get_version_string(), curl);
	return WD_EXIT_OK;
}
