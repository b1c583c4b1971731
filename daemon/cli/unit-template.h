/* The systemd user unit that `watchd service` writes: the text of
 * contrib/systemd/watchd@.service, compiled in so the two cannot drift apart.
 * The Makefile generates the definition (build/gen/unit-template.c) from that
 * file; this tracked declaration is all its users include, so every source
 * file compiles, and syntax-checks, on a fresh clone before any build. */
#ifndef WD_UNIT_TEMPLATE_H
#define WD_UNIT_TEMPLATE_H

/* The unit, with "@bindir@" still to be filled in. Static, never freed. */
extern const char unit_template[];

#endif
