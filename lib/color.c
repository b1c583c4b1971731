/* Terminal colour: the per-stream decision and the SGR escapes. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "color.h"

static bool enabled[3];	/* by fd; fd 0 is never written to */

int color_mode_parse(const char *s, enum color_mode *out)
{
	if (strcmp(s, "auto") == 0)
		*out = COLOR_AUTO;
	else if (strcmp(s, "always") == 0)
		*out = COLOR_ALWAYS;
	else if (strcmp(s, "never") == 0)
		*out = COLOR_NEVER;
	else
		return -1;
	return 0;
}

static bool decide(enum color_mode mode, int fd)
{
	const char *no = getenv("NO_COLOR"), *force = getenv("CLICOLOR_FORCE");
	const char *term = getenv("TERM");

	if (mode != COLOR_AUTO)
		return mode == COLOR_ALWAYS;
	/* https://no-color.org: present and not empty */
	if (no && *no)
		return false;
	if (force && *force && strcmp(force, "0") != 0)
		return true;
	return isatty(fd) && !(term && strcmp(term, "dumb") == 0);
}

void color_setup(enum color_mode mode)
{
	enabled[1] = decide(mode, 1);
	enabled[2] = decide(mode, 2);
}

bool color_enabled(int fd)
{
	return fd >= 1 && fd <= 2 && enabled[fd];
}

const char *color_on(int fd, enum color_kind kind)
{
	static const char *const sgr[] = {
		[COLOR_FAIL] = "\033[31m", [COLOR_PASS] = "\033[32m",
		[COLOR_PATH] = "\033[2m", [COLOR_WARN] = "\033[33m",
	};

	return color_enabled(fd) ? sgr[kind] : "";
}

const char *color_off(int fd)
{
	return color_enabled(fd) ? "\033[0m" : "";
}

const char *color_on_status(int fd, const char *status)
{
	int k = color_of_status(status);

	return k < 0 ? "" : color_on(fd, (enum color_kind)k);
}

int color_of_status(const char *status)
{
	if (status == NULL)
		return -1;
	if (strcmp(status, "pass") == 0)
		return COLOR_PASS;
	if (strcmp(status, "fail") == 0)
		return COLOR_FAIL;
	if (strcmp(status, "error") == 0 || strcmp(status, "timeout") == 0 ||
	    strcmp(status, "missing") == 0 || strcmp(status, "interrupted") == 0)
		return COLOR_WARN;
	return -1;
}
