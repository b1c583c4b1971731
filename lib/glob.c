/* Glob matcher. Backtracking over short relative paths; `**` is handled
 * by trying every split point, which is fine for paths of a few segments. */
#include <string.h>

#include "glob.h"

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

static bool match(const char *p, const char *s)
{
	for (;;) {
		switch (*p) {
		case '\0':
			return *s == '\0';
		case '*':
			if (p[1] == '*') {
				const char *rest = p + 2;

				/* double star followed by '/' may match zero directories */
				if (*rest == '/') {
					if (match(rest + 1, s))
						return true;
					for (; *s; s++)
						if (*s == '/' && match(rest + 1, s + 1))
							return true;
					return false;
				}
				if (*rest == '\0')
					return true;
				for (; *s; s++)
					if (match(rest, s))
						return true;
				return match(rest, s);
			}
			p++;
			for (;; s++) {
				if (match(p, s))
					return true;
				if (*s == '\0' || *s == '/')
					return false;
			}
		case '?':
			if (*s == '\0' || *s == '/')
				return false;
			p++;
			s++;
			break;
		case '[': {
			bool ok = false;
			const char *q;

			if (*s == '\0')
				return false;
			q = match_class(p, *s, &ok);
			if (q == NULL) {	/* unclosed: literal '[' */
				if (*s != '[')
					return false;
				p++;
				s++;
				break;
			}
			if (!ok)
				return false;
			p = q;
			s++;
			break;
		}
		case '\\':
			if (p[1])
				p++;
			/* fall through */
		default:
			if (*p != *s)
				return false;
			p++;
			s++;
		}
	}
}

bool glob_match(const char *pattern, const char *path)
{
	size_t n = strlen(pattern);

	if (n == 0)
		return false;
	if (pattern[n - 1] == '/') {
		/* "dir/" means the directory itself; as a plain match, its contents */
		char tmp[4096];

		if (n >= sizeof(tmp) - 3)
			return false;
		memcpy(tmp, pattern, n);
		memcpy(tmp + n, "**", 3);
		return glob_match(tmp, path);
	}
	if (pattern[0] == '/')
		return match(pattern + 1, path);
	if (strchr(pattern, '/') == NULL) {
		const char *base = strrchr(path, '/');

		return match(pattern, base ? base + 1 : path);
	}
	return match(pattern, path);
}

bool glob_covers_dir(const char *pattern, const char *dir)
{
	size_t n = strlen(pattern);
	char tmp[4096];

	if (n == 0 || n + 1 >= sizeof(tmp))
		return false;
	/* room for a leading '/' */
	memcpy(tmp + 1, pattern, n + 1);
	while (n > 0 && tmp[n] == '/')
		tmp[n--] = '\0';
	/* a '/' before the end anchors the pattern to ROOT, as in .gitignore:
	 * "build/" is any build directory, "build/" followed by two stars
	 * only ROOT's, so cutting the stars off must not unanchor it */
	if (n >= 3 && strcmp(tmp + 1 + n - 3, "/**") == 0) {
		tmp[1 + (n -= 3)] = '\0';
		if (n > 0 && strchr(tmp + 1, '/') == NULL) {
			tmp[0] = '/';
			return glob_match(tmp, dir);
		}
	}
	if (n == 0 || strcmp(tmp + 1, "**") == 0)
		return n != 0;
	return glob_match(tmp + 1, dir);
}

bool glob_match_or_parent(const char *pattern, const char *path)
{
	char tmp[4096];
	size_t n = strlen(path);

	if (glob_match(pattern, path))
		return true;
	if (n >= sizeof(tmp))
		return false;
	memcpy(tmp, path, n + 1);
	for (char *slash = strrchr(tmp, '/'); slash; slash = strrchr(tmp, '/')) {
		*slash = '\0';
		if (glob_covers_dir(pattern, tmp))
			return true;
	}
	return false;
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
