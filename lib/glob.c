/* Glob matcher. Backtracking over paths relative to ROOT, bounded in the
 * manner of git's wildmatch: a star whose remaining pattern fails at every
 * later position of the text answers ABORT_ALL, since no earlier star
 * taking more characters can help, and a single star stopped by a '/'
 * answers ABORT_TO_STARSTAR, since only a `**` may carry the match into
 * the next segment. Without this, `*a*a*a*a*a*a*a*a*b` against a long run
 * of 'a's tries every split: seconds per call, on the loop thread.
 * Patterns and paths of any length are matched (no fixed buffers). */
#include <stdlib.h>
#include <string.h>

#include "glob.h"
#include "xmalloc.h"

/* Matches one bracket class at p against c; returns the pointer after ']'
 * and sets *ok, or NULL if the class is not closed. */
static const char *match_class(const char *p, char c, bool *ok)
{
	bool neg = false, hit = false;

	p++;
	if (*p == '!' || *p == '^') {
		neg = true;
		p++;
	}
	if (*p == ']') {		/* a leading ']' is literal */
		hit = (c == ']');
		p++;
	}
	while (*p && *p != ']') {
		char lo = *p, hi = *p;

		if (lo == '\\' && p[1])
			lo = hi = *++p;
		if (p[1] == '-' && p[2] && p[2] != ']') {
			hi = p[2];
			if (hi == '\\' && p[3])
				hi = *(p += 1, p + 2);
			p += 2;
		}
		if ((unsigned char)c >= (unsigned char)lo && (unsigned char)c <= (unsigned char)hi)
			hit = true;
		p++;
	}
	if (*p != ']')
		return NULL;
	*ok = (hit != neg) && c != '/';
	return p + 1;
}

/* What a sub-match says: MATCH; NOMATCH (an enclosing star may try
 * further); ABORT_ALL (no star before this one can make it match);
 * ABORT_TO_STARSTAR (only a `**` further out can). */
enum { GM_MATCH, GM_NOMATCH, GM_ABORT_ALL, GM_ABORT_TO_STARSTAR };

/* One step per pattern character compared: tests bound this count on
 * pathological patterns (per thread, never reset). */
static _Thread_local unsigned long steps;

unsigned long glob_steps(void)
{
	return steps;
}

/* Whether the double star at p starts the pattern or follows a '/' that
 * the text must hold. Only then may what its tries after each '/' found
 * abort the stars before it: any later start they could give it also
 * follows a '/' of the text, so its zero-directory try there is one of
 * the tries already made. Elsewhere a later start would make a new
 * zero-directory try. A '/' ending another double star may have matched
 * nothing, and so does not count. */
static bool after_slash(const char *start, const char *p)
{
	if (p == start)
		return true;
	if (p[-1] != '/')
		return false;
	return !(p - start >= 3 && p[-2] == '*' && p[-3] == '*');
}

/* start is the whole pattern, to see what precedes a `**`. */
static int match(const char *start, const char *p, const char *s)
{
	bool lone;
	int r;

	for (;; p++, s++) {
		steps++;
		switch (*p) {
		case '\0':
			return *s == '\0' ? GM_MATCH : GM_NOMATCH;
		case '*':
			if (p[1] == '*') {
				const char *rest = p + 2;

				if (*rest == '\0')
					return GM_MATCH;
				if (*rest == '/') {
					/* zero directories, then after each '/' */
					r = match(start, rest + 1, s);
					if (r != GM_NOMATCH && r != GM_ABORT_TO_STARSTAR)
						return r;
					lone = !after_slash(start, p);
					for (; *s; s++) {
						steps++;
						if (*s != '/')
							continue;
						r = match(start, rest + 1, s + 1);
						if (r == GM_ABORT_ALL && lone)
							return GM_NOMATCH;
						if (r != GM_NOMATCH && r != GM_ABORT_TO_STARSTAR)
							return r;
					}
					return lone ? GM_NOMATCH : GM_ABORT_ALL;
				}
				for (;; s++) {
					r = match(start, rest, s);
					if (r != GM_NOMATCH && r != GM_ABORT_TO_STARSTAR)
						return r;
					if (*s == '\0')
						return GM_ABORT_ALL;
				}
			}
			p++;
			if (*p == '\0')		/* a last star: the rest of this segment */
				return strchr(s, '/') ? GM_ABORT_TO_STARSTAR : GM_MATCH;
			for (;; s++) {
				r = match(start, p, s);
				if (r != GM_NOMATCH)
					return r;
				if (*s == '\0')
					return GM_ABORT_ALL;
				if (*s == '/')
					return GM_ABORT_TO_STARSTAR;
				steps++;
			}
		case '?':
			if (*s == '\0')
				return GM_ABORT_ALL;
			if (*s == '/')
				return GM_NOMATCH;
			break;
		case '[': {
			bool ok = false;
			const char *q;

			if (*s == '\0')
				return GM_ABORT_ALL;
			q = match_class(p, *s, &ok);
			if (q == NULL) {	/* unclosed: literal '[' */
				if (*s != '[')
					return GM_NOMATCH;
				break;
			}
			if (!ok)
				return GM_NOMATCH;
			p = q - 1;
			break;
		}
		case '\\':
			if (p[1])
				p++;
			/* fall through */
		default:
			if (*s == '\0')
				return GM_ABORT_ALL;
			if (*p != *s)
				return GM_NOMATCH;
		}
	}
}

static bool anchored(const char *pattern, const char *path)
{
	return match(pattern, pattern, path) == GM_MATCH;
}

/* A copy of s with suffix appended, in small when it fits, else on the
 * heap: the caller frees it when it is not small. */
static char *concat(char *small, size_t size, const char *s, size_t n, const char *suffix)
{
	size_t m = strlen(suffix);
	char *t = n + m + 1 <= size ? small : xmalloc(n + m + 1);

	memcpy(t, s, n);
	memcpy(t + n, suffix, m + 1);
	return t;
}

bool glob_match(const char *pattern, const char *path)
{
	size_t n = strlen(pattern);

	if (n == 0)
		return false;
	if (pattern[n - 1] == '/') {
		/* "dir/" means the directory itself; as a plain match, its contents */
		char small[256], *tmp = concat(small, sizeof(small), pattern, n, "**");
		bool ok = glob_match(tmp, path);

		if (tmp != small)
			free(tmp);
		return ok;
	}
	if (pattern[0] == '/')
		return anchored(pattern + 1, path);
	if (strchr(pattern, '/') == NULL) {
		const char *base = strrchr(path, '/');

		return anchored(pattern, base ? base + 1 : path);
	}
	return anchored(pattern, path);
}

bool glob_covers_dir(const char *pattern, const char *dir)
{
	size_t n = strlen(pattern);
	char small[256], *tmp;
	bool ok;

	if (n == 0)
		return false;
	/* room for a leading '/' */
	tmp = concat(small, sizeof(small), "/", 1, pattern);
	while (n > 0 && tmp[n] == '/')
		tmp[n--] = '\0';
	/* a '/' before the end anchors the pattern to ROOT, as in .gitignore:
	 * "build/" is any build directory, "build/" followed by two stars
	 * only ROOT's, so cutting the stars off must not unanchor it */
	if (n >= 3 && strcmp(tmp + 1 + n - 3, "/**") == 0) {
		tmp[1 + (n -= 3)] = '\0';
		if (n > 0 && strchr(tmp + 1, '/') == NULL) {
			ok = glob_match(tmp, dir);
			goto out;
		}
	}
	if (n == 0 || strcmp(tmp + 1, "**") == 0)
		ok = n != 0;
	else
		ok = glob_match(tmp + 1, dir);
out:
	if (tmp != small)
		free(tmp);
	return ok;
}

bool glob_match_or_parent(const char *pattern, const char *path)
{
	char small[256], *tmp;
	bool ok = false;

	if (glob_match(pattern, path))
		return true;
	tmp = concat(small, sizeof(small), path, strlen(path), "");
	for (char *slash = strrchr(tmp, '/'); slash && !ok; slash = strrchr(tmp, '/')) {
		*slash = '\0';
		ok = glob_covers_dir(pattern, tmp);
	}
	if (tmp != small)
		free(tmp);
	return ok;
}

const char *glob_check(const char *pattern)
{
	if (*pattern == '\0')
		return "empty pattern";
	for (const char *p = pattern; *p; p++) {
		if (*p == '\\' && p[1]) {
			p++;
			continue;
		}
		if (*p == '[') {
			bool ok;

			if (match_class(p, 'a', &ok) == NULL)
				return "unclosed '[' in pattern";
		}
	}
	return NULL;
}
