/* The ledger subcommands' shared helpers: argument parsing and durations. */
#include "daemon/cli/ledger-cli.h"
#include "test.h"


TEST_IMPL(ledger_cli_args)
{
	char d[16];
	int v = -1;
	int64_t ms;

	ASSERT_OK(ledger_cli_uint("0", 10, &v));
	ASSERT_EQ(v, 0);
	ASSERT_OK(ledger_cli_uint("10", 10, &v));
	ASSERT_EQ(v, 10);
	ASSERT_EQ(ledger_cli_uint("11", 10, &v), -1);
	ASSERT_EQ(ledger_cli_uint("-1", 10, &v), -1);
	ASSERT_EQ(ledger_cli_uint("+1", 10, &v), -1);
	ASSERT_EQ(ledger_cli_uint("1x", 10, &v), -1);
	ASSERT_EQ(ledger_cli_uint("", 10, &v), -1);
	ASSERT_EQ(ledger_cli_uint("99999999999999999999", 10, &v), -1);

	ASSERT_OK(ledger_cli_since("log", "2h", &ms));
	ASSERT_EQ(ledger_cli_since("log", "later", &ms), WD_EXIT_USAGE);

	ledger_cli_duration(41, d);
	ASSERT_STR_EQ(d, "41ms");
	ledger_cli_duration(1500, d);
	ASSERT_STR_EQ(d, "1.5s");
	ledger_cli_duration(125000, d);
	ASSERT_STR_EQ(d, "2m05s");
	ledger_cli_duration(3720000, d);
	ASSERT_STR_EQ(d, "1h02m");
	return 0;
}
