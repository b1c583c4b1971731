/* The daemon's remote cache: made from the config's "remote_cache" and the
 * environment at start, made again when a reload changes them (the old one
 * is retired with the old config, as queued tasks may still use it), and
 * its warnings go to the log. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon-internal.h"
#include "daemon/cli/cli.h"
#include "daemon/remote/settings.h"
#include "daemon/run/sched.h"
#include "lib/log.h"
#include "lib/xmalloc.h"

static void on_warn(void *arg, const char *msg)
{
	(void)arg;
	log_warnx("%s", msg);
}

/* What the remote is made from, as one string to compare; the token is
 * in it but this string is never printed. NULL when none. */
static char *settings_sig(const struct config *cfg, struct remote_opts *o)
{
	if (!remote_settings(cfg, o))
		return NULL;
	return xasprintf("%s\n%d %d %ld\n%s", o->url, o->read, o->write, o->timeout_ms,
	    o->token ? o->token : "");
}

static struct remote *make(struct daemon *d, struct remote_opts *o)
{
	const char *why = NULL;
	struct remote *r;
	char *state = xasprintf("%s/remote-backoff", d->ctx->state_dir);

	o->state_path = state;
	r = remote_new(d->loop, o, on_warn, d, &why);
	free(state);
	if (r == NULL)
		log_warnx("remote cache not used: %s", why);
	else
		log_info("remote cache %s (%s%s)", remote_url(r), o->read ? "read" : "",
		    o->write ? (o->read ? ", write" : "write") : "");
	return r;
}

void remote_begin(struct daemon *d)
{
	struct remote_opts o;

	d->remote_sig = settings_sig(&d->ctx->cfg, &o);
	if (d->remote_sig)
		d->remote = make(d, &o);
	sched_set_remote(d->sched, d->remote);
}

void remote_reconfigure(struct daemon *d, struct retired *r)
{
	struct remote_opts o;
	char *sig = settings_sig(&d->ctx->cfg, &o);

	if ((sig == NULL && d->remote_sig == NULL) ||
	    (sig && d->remote_sig && strcmp(sig, d->remote_sig) == 0)) {
		free(sig);
		return;
	}
	r->remote = d->remote;
	free(d->remote_sig);
	d->remote_sig = sig;
	d->remote = sig ? make(d, &o) : NULL;
	sched_set_remote(d->sched, d->remote);
}

void remote_end(struct daemon *d)
{
	for (struct retired *r = d->retired; r; r = r->next) {
		remote_free(r->remote);
		r->remote = NULL;
	}
	remote_free(d->remote);
	d->remote = NULL;
	free(d->remote_sig);
	d->remote_sig = NULL;
}
