/* The remote cache's settings: config, then environment (see settings.h). */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "settings.h"

static int env_bool(const char *name)
{
	const char *v = getenv(name);

	if (v == NULL || *v == '\0')
		return -1;
	if (strcmp(v, "1") == 0 || strcasecmp(v, "true") == 0 || strcasecmp(v, "yes") == 0)
		return 1;
	return 0;
}

bool remote_settings(const struct config *cfg, struct remote_opts *o)
{
	const char *url = getenv("WATCHD_REMOTE_CACHE_URL"), *token;
	int w = env_bool("WATCHD_REMOTE_CACHE_WRITE");

	memset(o, 0, sizeof(*o));
	o->url = url ? url : cfg->remote.url;
	o->read = cfg->remote.read;
	o->write = cfg->remote.write;
	o->timeout_ms = cfg->remote.timeout_ms > 0 ? cfg->remote.timeout_ms : 2000;
	if (w >= 0)
		o->write = w == 1;
	token = getenv("WATCHD_REMOTE_CACHE_TOKEN");
	o->token = token && *token ? token : NULL;
	return o->url && *o->url && (o->read || o->write);
}
