/* Where the remote cache's settings come from: the config's
 * "remote_cache", then the environment, which wins (CI turns writing on
 * without editing the shared config; the token lives only there). */
#ifndef WD_REMOTE_SETTINGS_H
#define WD_REMOTE_SETTINGS_H

#include <stdbool.h>

#include "config/config.h"
#include "client.h"

/* Fills o from cfg and WATCHD_REMOTE_CACHE_URL (set and empty: off),
 * WATCHD_REMOTE_CACHE_WRITE (1/true/yes or 0/false/no) and
 * WATCHD_REMOTE_CACHE_TOKEN. Strings are borrowed from cfg and the
 * environment; state_path is left for the caller. False when no URL is set
 * or neither reading nor writing is on: no remote cache. */
bool remote_settings(const struct config *cfg, struct remote_opts *o);

#endif
