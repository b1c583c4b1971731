/* The command-line parser every command's declaration goes through. */
#include <sys/wait.h>
#include <unistd.h>

#include "daemon/cli/args.h"
#include "test.h"

static const struct args_spec spec = {
	.opts = (const struct args_opt[]){
		{ "json", 0 },
		{ "timeout", ARGS_VALUE },
		{ "limit", ARGS_VALUE | ARGS_LETTER('n') },
		{ "foreground", ARGS_LETTER('f') },
		{ "report", ARGS_VALUE | ARGS_REPEAT },
		{ NULL, 0 },
	},
	.upper = -1,
};

/* Parses a NULL-terminated word list against s; the words must outlive a. */
static int parse(struct args *a, const struct args_spec *s, char **words, struct wd_err *err)
{
	int n = 0;

	while (words[n])
		n++;
	return args_parse(a, s, n, words, err);
}

TEST_IMPL(args_options)
{
	char *w[] = { "--json", "a", "--timeout", "5", "--limit=7", "b", "-n", "9", "-n3",
		"-f", "-", NULL };
	struct wd_err err = { 0 };
	struct args a;

	ASSERT_OK(parse(&a, &spec, w, &err));
	ASSERT_EQ(args_has(&a, "json"), 1);
	ASSERT_STR_EQ(args_get(&a, "timeout"), "5");
	/* --limit=7, -n 9, -n3: the same option three times; the last wins */
	ASSERT_EQ(args_has(&a, "limit"), 3);
	ASSERT_STR_EQ(args_get(&a, "limit"), "3");
	ASSERT_EQ(args_has(&a, "foreground"), 1);
	ASSERT_EQ(args_has(&a, "report"), 0);
	ASSERT_NULL(args_get(&a, "report"));
	ASSERT_NULL(args_get(&a, "json"));	/* given, but it takes no value */
	/* options may sit between arguments; "-" is an argument */
	ASSERT_EQ(a.argc, 3);
	ASSERT_STR_EQ(a.argv[0], "a");
	ASSERT_STR_EQ(a.argv[1], "b");
	ASSERT_STR_EQ(a.argv[2], "-");
	ASSERT_NULL(a.argv[3]);
	args_release(&a);
	return 0;
}

TEST_IMPL(args_values)
{
	/* a value is the next word whatever it looks like, as with getopt */
	char *w1[] = { "--timeout", "-1", "--limit", "--", "--timeout=", NULL };
	char *w2[] = { "--timeout=a=b", NULL };
	struct wd_err err = { 0 };
	struct args a;

	ASSERT_OK(parse(&a, &spec, w1, &err));
	ASSERT_STR_EQ(args_get(&a, "timeout"), "");
	ASSERT_EQ(args_has(&a, "timeout"), 2);
	ASSERT_STR_EQ(args_get(&a, "limit"), "--");
	ASSERT_EQ(a.argc, 0);
	args_release(&a);

	ASSERT_OK(parse(&a, &spec, w2, &err));
	ASSERT_STR_EQ(args_get(&a, "timeout"), "a=b");
	args_release(&a);
	return 0;
}

TEST_IMPL(args_double_dash)
{
	char *w[] = { "x", "--", "--json", "-n", "--", NULL };
	struct wd_err err = { 0 };
	struct args a;

	ASSERT_OK(parse(&a, &spec, w, &err));
	ASSERT_EQ(args_has(&a, "json"), 0);
	ASSERT_EQ(args_has(&a, "limit"), 0);
	ASSERT_EQ(a.argc, 4);
	ASSERT_STR_EQ(a.argv[0], "x");
	ASSERT_STR_EQ(a.argv[1], "--json");
	ASSERT_STR_EQ(a.argv[2], "-n");
	ASSERT_STR_EQ(a.argv[3], "--");
	args_release(&a);
	return 0;
}

TEST_IMPL(args_repeat)
{
	char *w[] = { "--report", "json=a.json", "--json", "--report=junit=b.xml", "p",
		"--report", "sarif=c", NULL };
	struct wd_err err = { 0 };
	struct args a;
	size_t it = 0;

	ASSERT_OK(parse(&a, &spec, w, &err));
	ASSERT_EQ(args_has(&a, "report"), 3);
	ASSERT_STR_EQ(args_next(&a, "report", &it), "json=a.json");
	ASSERT_STR_EQ(args_next(&a, "report", &it), "junit=b.xml");
	ASSERT_STR_EQ(args_next(&a, "report", &it), "sarif=c");
	ASSERT_NULL(args_next(&a, "report", &it));
	ASSERT_NULL(args_next(&a, "report", &it));
	ASSERT_STR_EQ(args_get(&a, "report"), "sarif=c");
	ASSERT_EQ(a.argc, 1);
	args_release(&a);
	return 0;
}

/* Each bad word list and the message that names the offending word. */
TEST_IMPL(args_errors)
{
	static const struct {
		char	*w[4];
		char	*msg;
	} bad[] = {
		{ { "--bogus" }, "unknown option '--bogus'" },
		{ { "--bogus=1" }, "unknown option '--bogus'" },
		{ { "-x" }, "unknown option '-x'" },
		{ { "-fn" }, "unknown option '-fn'" },	/* letters do not combine */
		{ { "--jso" }, "unknown option '--jso'" },	/* nor abbreviate */
		{ { "--json=1" }, "option '--json' takes no value" },
		{ { "--timeout" }, "option '--timeout' needs a value" },
		{ { "a", "-n" }, "option '-n' needs a value" },
	};
	struct wd_err err;
	struct args a;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&err, 0, sizeof(err));
		ASSERT_EQ(parse(&a, &spec, (char **)bad[i].w, &err), WD_EUSAGE);
		ASSERT_EQ(err.code, WD_EUSAGE);
		ASSERT_STR_EQ(err.msg, bad[i].msg);
		ASSERT_NULL(a.argv);
		ASSERT_NULL(a.vals);
		args_release(&a);	/* harmless after a failed parse */
	}
	return 0;
}

TEST_IMPL(args_arity)
{
	const struct args_spec one = {
		.opts = (const struct args_opt[]){ { "force", 0 }, { NULL, 0 } },
		.lower = 1,
		.upper = 1,
		.missing = "install or uninstall?",
	};
	const struct args_spec none = { .lower = 0 };
	const struct args_spec two = { .lower = 2, .upper = 3 };
	char *w0[] = { "--force", NULL }, *w1[] = { "install", "--force", NULL };
	char *w2[] = { "install", "x", NULL }, *w3[] = { "a", NULL };
	char *w4[] = { "a", "b", "c", "d", NULL }, *w5[] = { "--", "--force", NULL };
	struct wd_err err = { 0 };
	struct args a;

	ASSERT_EQ(parse(&a, &one, w0, &err), WD_EUSAGE);
	ASSERT_STR_EQ(err.msg, "install or uninstall?");
	ASSERT_OK(parse(&a, &one, w1, &err));
	ASSERT_STR_EQ(a.argv[0], "install");
	ASSERT_EQ(args_has(&a, "force"), 1);
	args_release(&a);
	ASSERT_EQ(parse(&a, &one, w2, &err), WD_EUSAGE);
	ASSERT_STR_EQ(err.msg, "unexpected argument 'x'");
	ASSERT_OK(parse(&a, &one, w5, &err));	/* after "--", an argument */
	ASSERT_STR_EQ(a.argv[0], "--force");
	ASSERT_EQ(args_has(&a, "force"), 0);
	args_release(&a);

	/* no declaration at all: no option, no argument */
	ASSERT_EQ(parse(&a, &none, w3, &err), WD_EUSAGE);
	ASSERT_STR_EQ(err.msg, "unexpected argument 'a'");
	ASSERT_EQ(parse(&a, &none, w0, &err), WD_EUSAGE);
	ASSERT_STR_EQ(err.msg, "unknown option '--force'");
	ASSERT_OK(parse(&a, &none, w4 + 4, &err));
	args_release(&a);

	ASSERT_EQ(parse(&a, &two, w3, &err), WD_EUSAGE);
	ASSERT_STR_EQ(err.msg, "missing argument");
	ASSERT_EQ(parse(&a, &two, w4, &err), WD_EUSAGE);
	ASSERT_STR_EQ(err.msg, "unexpected argument 'd'");
	ASSERT_OK(parse(&a, &two, w4 + 1, &err));
	ASSERT_EQ(a.argc, 3);
	args_release(&a);
	return 0;
}

/* The global options: parsing stops at the command, whose words are its own. */
TEST_IMPL(args_options_first)
{
	const struct args_spec global = {
		.opts = (const struct args_opt[]){
			{ "root", ARGS_VALUE },
			{ "help", ARGS_LETTER('h') },
			{ NULL, 0 },
		},
		.upper = -1,
		.options_first = true,
	};
	char *w[] = { "--root", "/r", "-h", "status", "--json", "--root=x", "--", NULL };
	struct wd_err err = { 0 };
	struct args a;

	ASSERT_OK(parse(&a, &global, w, &err));
	ASSERT_STR_EQ(args_get(&a, "root"), "/r");
	ASSERT_EQ(args_has(&a, "help"), 1);
	ASSERT_EQ(a.argc, 4);
	ASSERT_STR_EQ(a.argv[0], "status");
	ASSERT_STR_EQ(a.argv[1], "--json");
	ASSERT_STR_EQ(a.argv[2], "--root=x");
	ASSERT_STR_EQ(a.argv[3], "--");
	args_release(&a);
	return 0;
}

/* Reading an option the spec does not declare, or a plain option as
 * repeatable, is a bug in the command: it must stop the program (exit 4),
 * not read as "not given". */
TEST_IMPL(args_undeclared_is_a_bug)
{
	char *w[] = { "--json", NULL };
	struct wd_err err = { 0 };
	struct args a;

	ASSERT_OK(parse(&a, &spec, w, &err));
	for (int i = 0; i < 2; i++) {
		pid_t pid = fork();
		int st;

		ASSERT(pid >= 0);
		if (pid == 0) {
			size_t it = 0;

			freopen("/dev/null", "w", stderr);
			if (i == 0)
				args_get(&a, "jsn");
			else
				args_next(&a, "timeout", &it);
			_exit(0);
		}
		ASSERT_EQ(waitpid(pid, &st, 0), pid);
		ASSERT(WIFEXITED(st));
		ASSERT_EQ(WEXITSTATUS(st), 4);
	}
	args_release(&a);
	return 0;
}
