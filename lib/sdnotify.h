/* The systemd service-manager protocol (sd_notify), spoken without
 * libsystemd: one datagram per message to the socket NOTIFY_SOCKET names.
 * A process that systemd did not start has no NOTIFY_SOCKET, and every
 * call here is then a no-op. */
#ifndef WD_SDNOTIFY_H
#define WD_SDNOTIFY_H

#include <stddef.h>
#include <stdint.h>

/* Reads NOTIFY_SOCKET, WATCHDOG_USEC and WATCHDOG_PID once, then unsets
 * them so that no child (a gate's tool) can talk to systemd in our name.
 * Returns 1 when a socket was given, else 0. */
int sdnotify_init(void);

/* Sends msg ("READY=1", "STATUS=...", several lines joined by '\n').
 * Never blocks. Returns 0, or -errno (-ENOTCONN when there is no socket). */
int sdnotify_send(const char *msg);

/* The watchdog interval systemd asked for (WatchdogSec=), in
 * microseconds, or 0 when it asked for none or for another process. */
uint64_t sdnotify_watchdog_usec(void);

/* The unit-name escaping of a path, as `systemd-escape --path` does it:
 * "/" → "-", leading and trailing "/" dropped, "-" and anything other than
 * [A-Za-z0-9:_.] → \xNN, a leading "." → \x2e, "/" alone → "-".
 * Returns a malloc'd string the caller frees. */
char *sdnotify_escape_path(const char *path);

#endif
