/* Unit test runner: forks each test with a timeout and prints TAP.
 *   unit-tests           run all
 *   unit-tests NAME...   run the named tests
 * The list comes from test-list.h, generated from the TEST_IMPL() lines. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define TEST(name) int test_##name(void);
#include "test-list.h"
#undef TEST

struct test { const char *name; int (*fn)(void); };
static const struct test tests[] = {
#define TEST(name) { #name, test_##name },
#include "test-list.h"
#undef TEST
	{ NULL, NULL },
};

static int run_one(const struct test *t)
{
	pid_t pid = fork();
	int status = 0;

	if (pid == 0) {
		alarm(60);
		_exit(t->fn() == 0 ? 0 : 1);
	}
	if (pid < 0 || waitpid(pid, &status, 0) < 0)
		return -1;
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	fprintf(stderr, "# %s: killed by signal %d%s\n", t->name, WTERMSIG(status),
	    WTERMSIG(status) == SIGALRM ? " (timeout)" : "");
	return -1;
}

int main(int argc, char **argv)
{
	int total = 0, failed = 0, n = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	for (const struct test *t = tests; t->name; t++)
		total++;
	printf("TAP version 13\n1..%d\n", argc > 1 ? argc - 1 : total);
	for (const struct test *t = tests; t->name; t++) {
		int rc, want = argc == 1;

		for (int i = 1; i < argc; i++)
			if (strcmp(argv[i], t->name) == 0)
				want = 1;
		if (!want)
			continue;
		rc = run_one(t);
		n++;
		printf("%s %d - %s\n", rc == 0 ? "ok" : "not ok", n, t->name);
		if (rc != 0)
			failed++;
	}
	printf("# unit: %d passed, %d failed\n", n - failed, failed);
	return failed ? 1 : 0;
}
