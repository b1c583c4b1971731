/* Unit test runner: forks each test with a timeout and prints TAP.
 *   unit-tests           run all
 *   unit-tests NAME...   run the named tests (in the list's order); a name
 *                        that names no test is an error (exit 2), so a typo
 *                        never passes as "nothing failed"
 * The list comes from test-list.h, generated from the TEST_IMPL() lines.
 * A run of several tests ends with the slowest few and their wall time, as
 * pytest's --durations does, so a test that starts waiting needlessly shows. */
#include <signal.h>
#include <stdbool.h>
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
#define NTESTS (sizeof(tests) / sizeof(tests[0]) - 1)
#define NSLOWEST 5

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int run_one(const struct test *t)
{
	pid_t pid;
	int status = 0;

	fflush(NULL);		/* the child exits through stdio: nothing to repeat */
	pid = fork();
	if (pid == 0) {
		alarm(60);
		/* exit, not _exit: under ASan, LeakSanitizer checks at exit, so a
		 * test that leaks (or leaks through the code it tests) fails */
		exit(t->fn() == 0 ? 0 : 1);
	}
	if (pid < 0 || waitpid(pid, &status, 0) < 0)
		return -1;
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	fprintf(stderr, "# %s: killed by signal %d%s\n", t->name, WTERMSIG(status),
	    WTERMSIG(status) == SIGALRM ? " (timeout)" : "");
	return -1;
}

/* Marks the tests named in argv; every name must name one. Returns the
 * number of unknown names (each reported on stderr). */
static int select_tests(int argc, char **argv, bool *want)
{
	int unknown = 0;

	for (int i = 1; i < argc; i++) {
		size_t j;

		for (j = 0; j < NTESTS; j++)
			if (strcmp(argv[i], tests[j].name) == 0)
				break;
		if (j == NTESTS) {
			fprintf(stderr, "unit-tests: no test named '%s'\n", argv[i]);
			unknown++;
		} else
			want[j] = true;
	}
	return unknown;
}

/* Prints the NSLOWEST longest runs, longest first, as one TAP comment. */
static void print_slowest(const double *secs, const bool *want)
{
	bool shown[NTESTS + 1] = { false };

	printf("# slowest:");
	for (int k = 0; k < NSLOWEST; k++) {
		size_t best = NTESTS;

		for (size_t j = 0; j < NTESTS; j++)
			if (want[j] && !shown[j] && (best == NTESTS || secs[j] > secs[best]))
				best = j;
		if (best == NTESTS)
			break;
		shown[best] = true;
		printf("%s %s %.2f s", k ? "," : "", tests[best].name, secs[best]);
	}
	printf("\n");
}

int main(int argc, char **argv)
{
	bool want[NTESTS + 1];
	double secs[NTESTS + 1] = { 0 };
	int planned = 0, failed = 0, n = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	for (size_t j = 0; j < NTESTS; j++)
		want[j] = argc == 1;
	if (select_tests(argc, argv, want) != 0) {
		fprintf(stderr, "usage: unit-tests [NAME...] (names are the TEST_IMPL() "
		    "names in tests/unit/test-*.c)\n");
		return 2;
	}
	for (size_t j = 0; j < NTESTS; j++)
		planned += want[j];
	printf("TAP version 13\n1..%d\n", planned);
	for (size_t j = 0; j < NTESTS; j++) {
		double t0;
		int rc;

		if (!want[j])
			continue;
		t0 = now_s();
		rc = run_one(&tests[j]);
		secs[j] = now_s() - t0;
		n++;
		printf("%s %d - %s\n", rc == 0 ? "ok" : "not ok", n, tests[j].name);
		if (rc != 0)
			failed++;
	}
	if (planned > 1)
		print_slowest(secs, want);
	printf("# unit: %d passed, %d failed\n", n - failed, failed);
	return failed ? 1 : 0;
}
