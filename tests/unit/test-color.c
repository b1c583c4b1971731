/* lib/color: parsing --color, the decision from the mode and the
 * environment (NO_COLOR, CLICOLOR_FORCE) for a stream that is not a
 * terminal, and the escapes a status word gets. */
#include <stdlib.h>

#include "lib/color.h"
#include "test.h"

TEST_IMPL(color_mode_parse)
{
	enum color_mode m = COLOR_AUTO;

	ASSERT_OK(color_mode_parse("always", &m));
	ASSERT_EQ(m, COLOR_ALWAYS);
	ASSERT_OK(color_mode_parse("never", &m));
	ASSERT_EQ(m, COLOR_NEVER);
	ASSERT_OK(color_mode_parse("auto", &m));
	ASSERT_EQ(m, COLOR_AUTO);
	ASSERT_EQ(color_mode_parse("yes", &m), -1);
	ASSERT_EQ(color_mode_parse("", &m), -1);
	return 0;
}

/* The runner's streams may be a terminal: only the environment's and the
 * mode's effects that hold whatever they are are asserted. */
TEST_IMPL(color_decision)
{
	ASSERT(!color_enabled(1));			/* off until set up */
	ASSERT_STR_EQ(color_on(1, COLOR_FAIL), "");
	setenv("NO_COLOR", "1", 1);
	setenv("CLICOLOR_FORCE", "1", 1);
	color_setup(COLOR_AUTO);
	ASSERT(!color_enabled(1) && !color_enabled(2));	/* NO_COLOR first */
	color_setup(COLOR_ALWAYS);			/* the flag wins */
	ASSERT(color_enabled(1) && color_enabled(2));
	ASSERT_STR_EQ(color_on_status(1, "fail"), "\033[31m");
	ASSERT_STR_EQ(color_on_status(1, "pass"), "\033[32m");
	ASSERT_STR_EQ(color_on_status(1, "skipped"), "");
	ASSERT_STR_EQ(color_on(2, COLOR_PATH), "\033[2m");
	ASSERT_STR_EQ(color_off(2), "\033[0m");
	setenv("NO_COLOR", "", 1);			/* empty: ignored */
	color_setup(COLOR_AUTO);
	ASSERT(color_enabled(1));			/* CLICOLOR_FORCE=1 */
	setenv("CLICOLOR_FORCE", "0", 1);
	color_setup(COLOR_NEVER);
	ASSERT(!color_enabled(1) && !color_enabled(2));
	ASSERT_STR_EQ(color_off(1), "");
	ASSERT(!color_enabled(0) && !color_enabled(3));
	unsetenv("NO_COLOR");
	unsetenv("CLICOLOR_FORCE");
	color_setup(COLOR_NEVER);
	return 0;
}
