/* Ignore filter. Directory answers are cached (a directory is asked about
 * once per scan, and a miss costs a few libgit2 stats); file answers are
 * computed on demand, since only changed files are ever asked about.
 *
 * Asking ahead: libgit2 answers "is this directory ignored?" by stating the
 * .gitignore of every ancestor and info/exclude again, about 30 us a
 * directory here, as long as listing and watching it. So while a scan
 * runs, a helper thread answers for the subdirectories already listed but
 * not yet entered. Requests form a stack: a depth-first scan needs the most
 * recent first. One lock guards the stack and the answers; libgit2 is
 * used under a second lock, by the helper or by ignore_path, never both. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/git/repo.h"
#include "ignore.h"
#include "lib/glob.h"
#include "lib/hmap.h"
#include "lib/xmalloc.h"

enum { ANSWER_PENDING, ANSWER_IGNORED, ANSWER_KEPT };

struct ahead_req {
	char		*rel;		/* owned */
	long		 ticket;
};

struct ahead {
	pthread_t	 thread;
	pthread_mutex_t	 lock;		/* everything below */
	pthread_cond_t	 work;		/* a request came, or stop */
	pthread_cond_t	 answered;
	struct ahead_req *stack;
	size_t		 n, alloc;
	signed char	*answers;	/* by ticket: ANSWER_* */
	size_t		 nanswers, answers_alloc;
	bool		 stop;
};

struct ignore {
	const struct strvec	*globs;
	struct repo		*repo;
	struct hmap		 dirs;	/* rel dir -> (void *)1 ignored, 2 not */
	pthread_mutex_t		 git_lock;	/* libgit2, from either thread */
	struct ahead		*ahead;	/* while asking ahead */
};

/* Editor droppings: vim swap/backup and its 4913 write probe, emacs lock
 * and autosave files, JetBrains safe-write temporaries. */
static const char *const builtin_files[] = {
	"*.swp", "*.swo", "*.swx", "*~", ".#*", "#*#", "4913",
	"*___jb_tmp___", "*___jb_old___",
	".watchd-cookie-*",	/* a sync cookie (COOKIE_PREFIX, daemon/ipc/ipc.h) a
				 * crash left behind */
	NULL,
};

bool ignore_builtin(const char *rel, bool is_dir)
{
	const char *base = strrchr(rel, '/');

	base = base ? base + 1 : rel;
	if (strcmp(base, ".git") == 0 || strcmp(rel, ".watchd") == 0 ||
	    strncmp(rel, ".watchd/", 8) == 0 || strncmp(rel, ".git/", 5) == 0 ||
	    strstr(rel, "/.git/") != NULL)
		return true;
	if (is_dir)
		return false;
	for (size_t i = 0; builtin_files[i]; i++)
		if (glob_match(builtin_files[i], base))
			return true;
	return false;
}

struct ignore *ignore_new(const struct strvec *globs, struct repo *repo)
{
	struct ignore *ig = xcalloc(1, sizeof(*ig));

	ig->globs = globs;
	ig->repo = repo;
	pthread_mutex_init(&ig->git_lock, NULL);
	return ig;
}

void ignore_free(struct ignore *ig)
{
	if (ig == NULL)
		return;
	ignore_ahead_stop(ig);
	hmap_release(&ig->dirs);
	pthread_mutex_destroy(&ig->git_lock);
	free(ig);
}

void ignore_trim(struct ignore *ig)
{
	if (ig == NULL)
		return;
	hmap_release(&ig->dirs);
	repo_trim(ig->repo);
}

void ignore_refresh(struct ignore *ig)
{
	hmap_release(&ig->dirs);
	repo_refresh(ig->repo);
}

static bool by_globs(struct ignore *ig, const char *rel, bool is_dir)
{
	for (size_t i = 0; ig->globs && i < ig->globs->n; i++) {
		const char *g = ig->globs->v[i];

		if (is_dir ? glob_covers_dir(g, rel) : glob_match_or_parent(g, rel))
			return true;
	}
	return false;
}

static bool by_git(struct ignore *ig, const char *rel, bool is_dir)
{
	int r;

	if (ig->repo == NULL)
		return false;
	pthread_mutex_lock(&ig->git_lock);
	r = repo_ignored(ig->repo, rel, is_dir);
	pthread_mutex_unlock(&ig->git_lock);
	return r == 1;
}

/* The answer that needs no git lookup: 1 ignored, 0 not ignored by
 * anything but perhaps git, -1 for a directory answered before. */
static int without_git(struct ignore *ig, const char *rel, bool is_dir, bool *ign)
{
	void *cached;

	if (ignore_builtin(rel, is_dir)) {
		*ign = true;
		return 1;
	}
	if (is_dir && (cached = hmap_gets(&ig->dirs, rel)) != NULL) {
		*ign = cached == (void *)1;
		return -1;
	}
	*ign = by_globs(ig, rel, is_dir);
	return *ign ? 1 : 0;
}

static bool remember(struct ignore *ig, const char *rel, bool ign)
{
	hmap_puts(&ig->dirs, rel, ign ? (void *)1 : (void *)2);
	return ign;
}

bool ignore_path(struct ignore *ig, const char *rel, bool is_dir)
{
	bool ign;
	int known = without_git(ig, rel, is_dir, &ign);

	if (known < 0)
		return ign;
	if (known == 0)
		ign = by_git(ig, rel, is_dir);
	return is_dir ? remember(ig, rel, ign) : ign;
}

/* ---- asking ahead ------------------------------------------------------- */

static void *ahead_main(void *arg)
{
	struct ignore *ig = arg;
	struct ahead *a = ig->ahead;

	pthread_mutex_lock(&a->lock);
	for (;;) {
		struct ahead_req req;
		bool ign;

		while (a->n == 0 && !a->stop)
			pthread_cond_wait(&a->work, &a->lock);
		if (a->stop)
			break;
		req = a->stack[--a->n];
		pthread_mutex_unlock(&a->lock);
		ign = by_git(ig, req.rel, true);
		free(req.rel);
		pthread_mutex_lock(&a->lock);
		a->answers[req.ticket] = ign ? ANSWER_IGNORED : ANSWER_KEPT;
		pthread_cond_signal(&a->answered);
	}
	pthread_mutex_unlock(&a->lock);
	return NULL;
}

void ignore_ahead_start(struct ignore *ig)
{
	struct ahead *a;

	if (ig == NULL || ig->repo == NULL || ig->ahead)
		return;
	a = xcalloc(1, sizeof(*a));
	pthread_mutex_init(&a->lock, NULL);
	pthread_cond_init(&a->work, NULL);
	pthread_cond_init(&a->answered, NULL);
	ig->ahead = a;
	if (pthread_create(&a->thread, NULL, ahead_main, ig) != 0) {
		/* no thread: every question is answered when it is asked */
		ig->ahead = NULL;
		pthread_cond_destroy(&a->answered);
		pthread_cond_destroy(&a->work);
		pthread_mutex_destroy(&a->lock);
		free(a);
	}
}

void ignore_ahead_stop(struct ignore *ig)
{
	struct ahead *a = ig ? ig->ahead : NULL;

	if (a == NULL)
		return;
	pthread_mutex_lock(&a->lock);
	a->stop = true;
	pthread_cond_signal(&a->work);
	pthread_mutex_unlock(&a->lock);
	pthread_join(a->thread, NULL);
	ig->ahead = NULL;
	for (size_t i = 0; i < a->n; i++)
		free(a->stack[i].rel);
	free(a->stack);
	free(a->answers);
	pthread_cond_destroy(&a->answered);
	pthread_cond_destroy(&a->work);
	pthread_mutex_destroy(&a->lock);
	free(a);
}

long ignore_ahead_ask(struct ignore *ig, const char *rel)
{
	struct ahead *a = ig->ahead;
	long ticket;

	bool ign;

	/* what needs no git lookup is answered at the take, at once */
	if (a == NULL || without_git(ig, rel, true, &ign) != 0)
		return -1;
	pthread_mutex_lock(&a->lock);
	ticket = (long)a->nanswers;
	a->answers = xgrow(a->answers, &a->answers_alloc, a->nanswers + 1, 1);
	a->answers[a->nanswers++] = ANSWER_PENDING;
	a->stack = xgrow(a->stack, &a->alloc, a->n + 1, sizeof(*a->stack));
	a->stack[a->n].rel = xstrdup(rel);
	a->stack[a->n++].ticket = ticket;
	pthread_cond_signal(&a->work);
	pthread_mutex_unlock(&a->lock);
	return ticket;
}

bool ignore_ahead_take(struct ignore *ig, const char *rel, long ticket)
{
	struct ahead *a = ig->ahead;
	signed char answer;

	if (ticket < 0 || a == NULL)
		return ignore_path(ig, rel, true);
	pthread_mutex_lock(&a->lock);
	while ((answer = a->answers[ticket]) == ANSWER_PENDING)
		pthread_cond_wait(&a->answered, &a->lock);
	pthread_mutex_unlock(&a->lock);
	return remember(ig, rel, answer == ANSWER_IGNORED);
}

bool ignore_is_rules_file(const char *rel)
{
	const char *base = strrchr(rel, '/');

	base = base ? base + 1 : rel;
	return strcmp(base, ".gitignore") == 0 || strcmp(rel, ".git/info/exclude") == 0;
}

void ignore_rules_files(struct ignore *ig, struct strvec *out)
{
	if (ig->repo)
		repo_rules_files(ig->repo, out);
}
