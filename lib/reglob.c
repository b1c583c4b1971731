/* Regex to glob translation (see reglob.h). Two passes: parsing expands
 * the regex into a list of alternatives, each a flat string of literal
 * bytes and the token bytes below (alternation and '?' are multiplied
 * out); then each alternative becomes one or two globs.
 *
 * The one subtle part is ".*", which crosses '/' where a glob's '*' does
 * not. On normalised paths it is exact as "**" after a '/' (or at the
 * start) when nothing follows, as "**" + "/" + "*" after a '/' otherwise,
 * and, inside a segment, as "*" or "*" + "/" + "**" + "/" + "*" (two globs)
 * -- or "*" + "/" + "**" when a '/' follows, since a glob's "**" + "/"
 * also matches no directory at all. */
#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/reglob.h"
#include "lib/xmalloc.h"

#define T_ANY	'\x01'	/* .*    */
#define T_ANY1	'\x02'	/* .+    */
#define T_SEG	'\x03'	/* [^/]* */
#define T_ONE	'\x04'	/* [^/]  */
#define T_BOL	'\x05'	/* ^ \A  */
#define T_EOL	'\x06'	/* $ \Z  */
#define T_CLS	'\x07'	/* a glob class "[...]" follows, up to its ']' */

struct parser {
	const char	*s;
	size_t		 i, len;
	const char	*why;
};

static void set1(struct strvec *v, const char *s, size_t n)
{
	strvec_clear(v);
	strvec_pushn(v, s, n);
}

/* cur := { a + b : a in cur, b in alts }. false when it grows too big. */
static bool cross(struct parser *p, struct strvec *cur, const struct strvec *alts)
{
	struct strvec next = STRVEC_INIT;

	if (cur->n * alts->n > REGLOB_MAX * 4) {
		p->why = "too many alternatives to spell as globs";
		return false;
	}
	for (size_t i = 0; i < cur->n; i++)
		for (size_t j = 0; j < alts->n; j++)
			strvec_pushf(&next, "%s%s", cur->v[i], alts->v[j]);
	strvec_clear(cur);
	*cur = next;
	return true;
}

static bool quantified(const struct parser *p)
{
	return p->i < p->len && (p->s[p->i] == '*' || p->s[p->i] == '+' || p->s[p->i] == '{');
}

static bool parse_alts(struct parser *p, struct strvec *out, bool in_group);

/* A bracket class starting at '['. */
static bool parse_class(struct parser *p, struct strvec *atom)
{
	struct buf b = BUF_INIT;
	size_t start = ++p->i;
	bool neg = false, ok = false;

	if (p->i < p->len && p->s[p->i] == '^') {
		neg = true;
		start = ++p->i;
	}
	while (p->i < p->len && (p->s[p->i] != ']' || p->i == start)) {
		char c = p->s[p->i];

		if (c == '\\') {
			if (p->i + 1 >= p->len || isalnum((unsigned char)p->s[p->i + 1])) {
				p->why = "a class escape such as \\w or \\d";
				goto out;
			}
			c = p->s[++p->i];
		}
		if (c == '/' && !neg) {
			p->why = "a class that matches '/'";
			goto out;
		}
		if (c == '[' || (c == '!' && b.len == 0) || (c == '^' && b.len == 0) ||
		    (unsigned char)c < 0x20) {
			p->why = "a class holding '[', or starting with '!' or '^'";
			goto out;
		}
		buf_addch(&b, c);
		p->i++;
	}
	if (p->i >= p->len) {
		p->why = "an unclosed '['";
		goto out;
	}
	p->i++;
	if (neg) {
		if (strcmp(b.buf, "/") != 0) {
			p->why = "a negated class other than [^/] (it matches '/')";
			goto out;
		}
		if (p->i < p->len && p->s[p->i] == '*') {
			p->i++;
			set1(atom, (char[]){ T_SEG }, 1);
		} else if (p->i < p->len && p->s[p->i] == '+') {
			p->i++;
			set1(atom, (char[]){ T_ONE, T_SEG }, 2);
		} else {
			set1(atom, (char[]){ T_ONE }, 1);
		}
		if (p->i < p->len && p->s[p->i] == '?' && p->i > 0 &&
		    (p->s[p->i - 1] == '*' || p->s[p->i - 1] == '+'))
			p->i++;		/* lazy: the same set of matches */
		ok = true;
		goto out;
	}
	if (quantified(p)) {
		p->why = "a repeated class other than [^/]* or [^/]+";
		goto out;
	}
	strvec_clear(atom);
	strvec_pushf(atom, "%c[%s]", T_CLS, b.buf);
	ok = true;
out:
	buf_release(&b);
	return ok;
}

static bool parse_atom(struct parser *p, struct strvec *atom)
{
	char c = p->s[p->i];

	switch (c) {
	case '(':
		p->i++;
		if (p->i < p->len && p->s[p->i] == '?') {
			if (p->i + 1 < p->len && p->s[p->i + 1] == ':') {
				p->i += 2;
			} else if (p->i + 2 < p->len && p->s[p->i + 1] == 'P' && p->s[p->i + 2] == '<') {
				while (p->i < p->len && p->s[p->i] != '>')
					p->i++;
				p->i++;
			} else {
				p->why = "a lookaround or inline flag (?...)";
				return false;
			}
		}
		strvec_clear(atom);
		if (!parse_alts(p, atom, true))
			return false;
		if (p->i >= p->len || p->s[p->i] != ')') {
			p->why = "an unbalanced '('";
			return false;
		}
		p->i++;
		if (quantified(p)) {
			p->why = "a repeated group";
			return false;
		}
		return true;
	case '.':
		p->i++;
		if (p->i < p->len && (p->s[p->i] == '*' || p->s[p->i] == '+')) {
			set1(atom, (char[]){ p->s[p->i] == '*' ? T_ANY : T_ANY1 }, 1);
			p->i++;
			if (p->i < p->len && p->s[p->i] == '?')
				p->i++;		/* lazy: the same set of matches */
			return true;
		}
		p->why = "a '.' that matches any one character, '/' included (escape it: \\.)";
		return false;
	case '[':
		return parse_class(p, atom);
	case '^':
	case '$':
		p->i++;
		set1(atom, (char[]){ c == '^' ? T_BOL : T_EOL }, 1);
		return true;
	case '\\':
		if (p->i + 1 >= p->len) {
			p->why = "a trailing '\\'";
			return false;
		}
		c = p->s[++p->i];
		p->i++;
		if (c == 'A' || c == 'Z') {
			set1(atom, (char[]){ c == 'A' ? T_BOL : T_EOL }, 1);
			return true;
		}
		if (isalnum((unsigned char)c)) {
			p->why = "an escape such as \\w, \\d, \\s or \\b";
			return false;
		}
		break;
	case '*':
	case '+':
	case '?':
	case '{':
		p->why = "a repeated character (x*, x+, x{n})";
		return false;
	case ')':
		p->why = "an unbalanced ')'";
		return false;
	default:
		if ((unsigned char)c < 0x20) {
			p->why = "a control character";
			return false;
		}
		p->i++;
		break;
	}
	if (quantified(p)) {
		p->why = "a repeated character (x*, x+, x{n})";
		return false;
	}
	set1(atom, &c, 1);
	return true;
}

/* alternatives ('|'-separated sequences) up to the end, or up to ')' when
 * in_group; appended to out. */
static bool parse_alts(struct parser *p, struct strvec *out, bool in_group)
{
	struct strvec cur = STRVEC_INIT, atom = STRVEC_INIT;
	bool ok = false;

	strvec_push(&cur, "");
	for (;;) {
		if (p->i >= p->len || (in_group && p->s[p->i] == ')') || p->s[p->i] == '|') {
			strvec_pushv(out, &cur);
			if (out->n > REGLOB_MAX * 4) {
				p->why = "too many alternatives to spell as globs";
				goto out;
			}
			if (p->i < p->len && p->s[p->i] == '|') {
				p->i++;
				strvec_clear(&cur);
				strvec_push(&cur, "");
				continue;
			}
			break;
		}
		if (!parse_atom(p, &atom))
			goto out;
		if (p->i < p->len && p->s[p->i] == '?') {
			p->i++;
			if (p->i < p->len && p->s[p->i] == '?')
				p->i++;
			strvec_push(&atom, "");
		}
		if (!cross(p, &cur, &atom))
			goto out;
	}
	ok = true;
out:
	strvec_clear(&cur);
	strvec_clear(&atom);
	return ok;
}

/* Verbose mode: whitespace and # comments outside classes do not count. */
static char *strip_verbose(const char *s)
{
	struct buf b = BUF_INIT;
	bool in_class = false;

	for (; *s; s++) {
		if (*s == '\\' && s[1]) {
			buf_add(&b, s, 2);
			s++;
			continue;
		}
		if (in_class) {
			in_class = *s != ']';
		} else if (*s == '[') {
			in_class = true;
		} else if (isspace((unsigned char)*s)) {
			continue;
		} else if (*s == '#') {
			while (s[1] && s[1] != '\n')
				s++;
			continue;
		}
		buf_addch(&b, *s);
	}
	return buf_detach(&b, NULL);
}

static bool is_any(char t)
{
	return t == T_ANY || t == T_ANY1 || t == T_SEG;
}

/* One alternative to globs (one or two per ".*" inside a segment). */
static bool emit(const char *alt, struct strvec *out, const char **why)
{
	struct buf seq = BUF_INIT;
	struct strvec parts = STRVEC_INIT, next = STRVEC_INIT;
	size_t n = strlen(alt);
	bool bol = n && alt[0] == T_BOL, eol = n && alt[n - 1] == T_EOL, ok = false;

	if (!bol)
		buf_addch(&seq, T_ANY);
	for (size_t i = bol; i + eol < n; i++) {
		char t = alt[i];

		if (t == T_BOL || t == T_EOL) {
			*why = "an anchor (^ or $) inside the pattern";
			goto out;
		}
		/* merge runs of .*, .+ and [^/]*: the widest wins */
		if (is_any(t) && seq.len && is_any(seq.buf[seq.len - 1])) {
			char *last = &seq.buf[seq.len - 1];

			*last = *last == T_ANY1 || t == T_ANY1 ? T_ANY1 :
			    *last == T_ANY || t == T_ANY ? T_ANY : T_SEG;
			continue;
		}
		buf_addch(&seq, t);
		if (t == T_CLS) {
			while (alt[++i] != ']')
				buf_addch(&seq, alt[i]);
			buf_addch(&seq, ']');
		}
	}
	if (!eol) {
		if (seq.len && is_any(seq.buf[seq.len - 1]))
			seq.buf[seq.len - 1] = seq.buf[seq.len - 1] == T_ANY1 ? T_ANY1 : T_ANY;
		else
			buf_addch(&seq, T_ANY);
	}
	strvec_push(&parts, "");
	for (size_t i = 0; i < seq.len; i++) {
		char t = seq.buf[i];
		bool at_start = i == 0 || seq.buf[i - 1] == '/';
		bool at_end = i + 1 == seq.len, slash_next = !at_end && seq.buf[i + 1] == '/';
		const char *a = NULL, *b = NULL;
		char lit[3] = { 0 };

		switch (t) {
		case T_ANY:
			if (at_start)
				a = at_end ? "**" : "**/*";
			else if (at_end)
				a = "*", b = "*/**";
			else if (slash_next)
				a = "*/**";
			else
				a = "*", b = "*/**/*";
			break;
		case T_ANY1:
			if (!(at_start && at_end)) {
				*why = "a '.+' that does not end the pattern right after a '/'";
				goto out;
			}
			a = "**";
			break;
		case T_SEG:
			a = "*";
			break;
		case T_ONE:
			a = "?";
			break;
		case T_CLS: {
			size_t j = i + 1;

			while (seq.buf[j] != ']')
				j++;
			for (size_t k = 0; k < parts.n; k++) {
				char *s = xasprintf("%s%.*s", parts.v[k], (int)(j - i), seq.buf + i + 1);

				free(parts.v[k]);
				parts.v[k] = s;
			}
			i = j;
			continue;
		}
		default:
			if (strchr("*?[]\\", t))
				lit[0] = '\\', lit[1] = t;
			else
				lit[0] = t;
			a = lit;
			break;
		}
		for (size_t k = 0; k < parts.n; k++) {
			strvec_pushf(&next, "%s%s", parts.v[k], a);
			if (b)
				strvec_pushf(&next, "%s%s", parts.v[k], b);
		}
		strvec_clear(&parts);
		parts = next;
		memset(&next, 0, sizeof(next));
		if (parts.n > REGLOB_MAX) {
			*why = "too many alternatives to spell as globs";
			goto out;
		}
	}
	for (size_t k = 0; k < parts.n; k++) {
		const char *g = parts.v[k];

		if (*g == '\0' || g[strlen(g) - 1] == '/')
			continue;	/* the empty path, or a directory's: never a file */
		if (strchr(g, '/') == NULL && strcmp(g, "**") != 0)
			strvec_pushf(out, "/%s", g);	/* anchored: not "at any depth" */
		else
			strvec_push(out, g);
	}
	ok = true;
out:
	buf_release(&seq);
	strvec_clear(&parts);
	strvec_clear(&next);
	return ok;
}

int reglob_translate(const char *re, struct strvec *out, const char **why)
{
	struct strvec alts = STRVEC_INIT, globs = STRVEC_INIT;
	struct parser p = { .s = re };
	char *verbose = NULL;
	int rc = 1;

	if (strncmp(re, "(?x)", 4) == 0)
		p.s = verbose = strip_verbose(re + 4);
	p.len = strlen(p.s);
	if (!parse_alts(&p, &alts, false)) {
		*why = p.why;
		goto out;
	}
	if (p.i < p.len) {
		*why = "an unbalanced ')'";
		goto out;
	}
	for (size_t i = 0; i < alts.n; i++)
		if (!emit(alts.v[i], &globs, why))
			goto out;
	strvec_sort_uniq(&globs);
	if (globs.n > REGLOB_MAX) {
		*why = "too many alternatives to spell as globs";
		goto out;
	}
	strvec_pushv(out, &globs);
	rc = 0;
out:
	strvec_clear(&alts);
	strvec_clear(&globs);
	free(verbose);
	return rc;
}
