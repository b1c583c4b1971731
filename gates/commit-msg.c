/* "type": "commit-msg" — Conventional Commits 1.0 for the commit message.
 *
 * The message is first reduced to what git will record (its "strip"
 * cleanup): comment lines go, everything from the scissors line on goes,
 * trailing blanks are cut, runs of blank lines fold into one and blank
 * lines at either end go. Every kept line remembers its line number in
 * the file, so findings point at what the user wrote.
 *
 * The message is then read as the specification lays it out: a header
 * `type(scope)!: description`, an optional body one blank line below it,
 * and optional footers in the last paragraph (`Token: value` or
 * `Token #value`, a line that is no footer continuing the value above).
 * Codes CCn name the specification's rule n. */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "commit-msg.h"
#include "gate.h"
#include "lib/jsonget.h"
#include "lib/xmalloc.h"

struct line {
	const char	*s;	/* into the message; not NUL-terminated */
	size_t		 len;	/* trailing whitespace cut */
	int		 no;	/* 1-based line number in the file */
};

struct ctx {
	const struct commit_msg_opts	*o;
	const char			*path;
	struct findings			*out;
	size_t				 n;
};

static void add(struct ctx *c, int line, int col, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static void add(struct ctx *c, int line, int col, const char *code, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	struct finding f = { 0 };

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	f.path = (char *)c->path;
	f.line = line;
	f.col = col;
	f.code = (char *)code;
	f.severity = (char *)"error";
	f.message = msg;
	findings_add(c->out, &f);
	c->n++;
}

static bool is_blank(const struct line *l)
{
	return l->len == 0;
}

/* git's scissors line: "<comment char> ------------------------ >8 ------------------------" */
static bool is_scissors(const char *s, size_t len, char cc)
{
	static const char cut[] = " ------------------------ >8 ------------------------";

	return len == 1 + sizeof(cut) - 1 && s[0] == cc && memcmp(s + 1, cut, sizeof(cut) - 1) == 0;
}

/* Splits msg into lines as git's stripspace keeps them. Returns the count;
 * *lines is malloc'ed. */
static size_t clean_lines(const char *msg, size_t len, char cc, struct line **lines)
{
	struct line *v = NULL;
	size_t n = 0, alloc = 0;
	int no = 0;

	for (const char *p = msg, *end = msg + len; p < end;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t l = nl ? (size_t)(nl - p) : (size_t)(end - p);

		no++;
		if (is_scissors(p, l - (l && p[l - 1] == '\r'), cc))
			break;
		if (l > 0 && p[0] == cc)
			goto next;
		while (l > 0 && isspace((unsigned char)p[l - 1]))
			l--;
		/* fold blank runs and drop leading blanks */
		if (l == 0 && (n == 0 || is_blank(&v[n - 1])))
			goto next;
		if (n == alloc) {
			alloc = alloc ? 2 * alloc : 16;
			v = xrealloc(v, alloc * sizeof(*v));
		}
		v[n++] = (struct line){ p, l, no };
next:
		if (nl == NULL)
			break;
		p = nl + 1;
	}
	while (n > 0 && is_blank(&v[n - 1]))
		n--;
	*lines = v;
	return n;
}

static bool starts(const struct line *l, const char *prefix)
{
	size_t n = strlen(prefix);

	return l->len >= n && memcmp(l->s, prefix, n) == 0;
}

/* Characters (UTF-8 code points) in s[0..len). */
static size_t utf8_chars(const char *s, size_t len)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++)
		if (((unsigned char)s[i] & 0xC0) != 0x80)
			n++;
	return n;
}

/* The byte offset of the character numbered chars (0-based). */
static size_t utf8_offset(const char *s, size_t len, size_t chars)
{
	size_t n = 0, i;

	for (i = 0; i < len; i++)
		if (((unsigned char)s[i] & 0xC0) != 0x80 && n++ == chars)
			return i;
	return len;
}

static bool in_list(const struct strvec *list, const char *s, size_t len)
{
	for (size_t i = 0; list && i < list->n; i++)
		if (strlen(list->v[i]) == len && strncasecmp(list->v[i], s, len) == 0)
			return true;
	return false;
}

static void list_str(const struct strvec *list, char *out, size_t n)
{
	out[0] = '\0';
	for (size_t i = 0; i < list->n && strlen(out) + 2 < n; i++)
		snprintf(out + strlen(out), n - strlen(out), "%s%s", i ? ", " : "", list->v[i]);
}

static bool is_word_char(char ch)
{
	return isalnum((unsigned char)ch) || ch == '-' || ch == '_';
}

/* Judges the header `type(scope)!: description`. off is where the real
 * subject starts on the line (past "fixup! " and friends). */
static void check_header(struct ctx *c, const struct line *l, size_t off)
{
	const char *s = l->s;
	size_t len = l->len, i = off, t0 = off, tlen, scope0 = 0, scopelen = 0;
	char list[256];

	while (i < len && is_word_char(s[i]))
		i++;
	tlen = i - t0;
	if (tlen == 0 || !isalpha((unsigned char)s[t0])) {
		add(c, l->no, (int)off + 1, "CC1", "the subject must start with a type, e.g. "
		    "\"feat: add x\" or \"fix(parser): y\" (rule 1: a type, an optional (scope) "
		    "and '!', then ': ' and a description)");
		return;
	}
	if (i < len && s[i] == '!' && i + 1 < len && s[i + 1] == '(') {
		add(c, l->no, (int)i + 1, "CC13", "'!' goes right before the ':', after the "
		    "scope: \"%.*s(...)!:\" (rule 13)", (int)tlen, s + t0);
		return;
	}
	if (i < len && s[i] == '(') {
		const char *close = memchr(s + i, ')', len - i);
		const char *open2 = close ? memchr(s + i + 1, '(', (size_t)(close - s - i - 1)) : NULL;

		if (close == NULL || open2 != NULL) {
			add(c, l->no, (int)i + 1, "CC4", "the scope needs a closing ')' and no "
			    "nested parentheses, e.g. \"fix(parser): ...\" (rule 4)");
			return;
		}
		scope0 = i + 1;
		scopelen = (size_t)(close - s) - scope0;
		{
			size_t k = 0;

			while (k < scopelen && !isspace((unsigned char)s[scope0 + k]))
				k++;
			if (scopelen == 0 || k < scopelen) {
				add(c, l->no, (int)i + 1, "CC4", "a scope is a noun naming a part "
				    "of the code base, inside parentheses, without spaces: "
				    "\"fix(parser): ...\" (rule 4)");
				return;
			}
		}
		i = (size_t)(close - s) + 1;
	}
	if (i < len && s[i] == '!')
		i++;
	if (i >= len || s[i] != ':') {
		if (i < len && isspace((unsigned char)s[i]) && memchr(s + i, ':', len - i))
			add(c, l->no, (int)i + 1, "CC1", "no space before the ':' (rule 1: "
			    "\"%.*s: description\")", (int)tlen, s + t0);
		else if (i < len && s[i] == '(')
			add(c, l->no, (int)i + 1, "CC4", "one scope at most (rule 4)");
		else
			add(c, l->no, (int)i + 1, "CC1", "expected ':' and a space after the "
			    "type%s (rule 1: \"%.*s: description\")", scopelen ? " and scope" : "",
			    (int)tlen, s + t0);
		return;
	}
	i++;
	if (i >= len) {
		add(c, l->no, (int)i + 1, "CC5", "a description must follow ': ' (rule 5)");
		return;
	}
	if (s[i] != ' ') {
		add(c, l->no, (int)i + 1, "CC1", "the ':' must be followed by a space (rule 1)");
		return;
	}
	i++;
	if (i >= len || isspace((unsigned char)s[i]))
		add(c, l->no, (int)i + 1, "CC5", "the description must immediately follow "
		    "': ', after exactly one space (rule 5)");
	if (c->o->types && c->o->types->n && !in_list(c->o->types, s + t0, tlen)) {
		list_str(c->o->types, list, sizeof(list));
		add(c, l->no, (int)t0 + 1, "CC-types", "type \"%.*s\" is not one of this "
		    "repository's types: %s", (int)tlen, s + t0, list);
	}
	if (scopelen && c->o->scopes && c->o->scopes->n &&
	    !in_list(c->o->scopes, s + scope0, scopelen)) {
		list_str(c->o->scopes, list, sizeof(list));
		add(c, l->no, (int)scope0 + 1, "CC-scopes", "scope \"%.*s\" is not one of this "
		    "repository's scopes: %s", (int)scopelen, s + scope0, list);
	}
	if (c->o->max_subject > 0 && utf8_chars(s + off, len - off) > (size_t)c->o->max_subject)
		add(c, l->no, (int)(off + utf8_offset(s + off, len - off,
		    (size_t)c->o->max_subject)) + 1, "CC-max-subject", "the subject is %zu "
		    "characters long; at most %d here", utf8_chars(s + off, len - off),
		    c->o->max_subject);
}

/* How a line starts as a footer: 0 when it is none; else the token length
 * and *sep_len (": " or " #"). BREAKING CHANGE is the one token with a
 * space (rule 9); its spelling is judged by the caller. */
static size_t footer_token(const struct line *l, size_t *sep_len)
{
	const char *s = l->s;
	size_t len = l->len, i = 0;

	if (len >= 15 && strncasecmp(s, "breaking change", 15) == 0)
		i = 15;
	else {
		while (i < len && (isalnum((unsigned char)s[i]) || s[i] == '-'))
			i++;
		if (i == 0 || !isalnum((unsigned char)s[0]))
			return 0;
	}
	if (i + 1 < len && s[i] == ':' && s[i + 1] == ' ') {
		*sep_len = 2;
		return i;
	}
	if (i + 1 < len && s[i] == ' ' && s[i + 1] == '#') {
		*sep_len = 2;
		return i;
	}
	/* "Token:" with nothing after it is a footer that lacks its value */
	if (i + 1 == len && s[i] == ':') {
		*sep_len = 1;
		return i;
	}
	return 0;
}

/* A line that reads like a footer whose token has spaces ("Reviewed by:
 * x"): a capital, at most three words, then ": ". Prose continuing a
 * footer's value ("see the notes: ...") is left alone. */
static bool spaced_token(const struct line *l)
{
	const char *colon = memchr(l->s, ':', l->len);
	int words = 1;

	if (colon == NULL || colon == l->s || (size_t)(colon - l->s) + 1 >= l->len ||
	    colon[1] != ' ' || !isupper((unsigned char)l->s[0]))
		return false;
	for (const char *p = l->s; p < colon; p++) {
		if (*p == ' ')
			words++;
		else if (!is_word_char(*p))
			return false;
	}
	return words > 1 && words <= 3;
}

/* Whether the line starts with the token word (any case) followed by
 * what could be a separator: "breaking changes ahead" is prose. */
static bool starts_breaking(const struct line *l, const char *word)
{
	return l->len >= 15 && strncasecmp(l->s, word, 15) == 0 &&
	    (l->len == 15 || strchr(": #", l->s[15]) != NULL);
}

/* BREAKING CHANGE spelled right: uppercase, then ": " and a description
 * (rules 12, 15, 16). in_footer: the line is in the footer paragraph. */
static void check_breaking(struct ctx *c, const struct line *l, bool in_footer)
{
	const char *s = l->s;
	size_t len = l->len;
	bool spaced = starts_breaking(l, "breaking change");
	bool dashed = starts_breaking(l, "breaking-change");

	if (!spaced && !dashed)
		return;
	if (memcmp(s, spaced ? "BREAKING CHANGE" : "BREAKING-CHANGE", 15) != 0) {
		add(c, l->no, 1, "CC15", "\"%.15s\" must be written in uppercase: "
		    "BREAKING CHANGE (rule 15)", s);
		return;
	}
	if (len < 18 || s[15] != ':' || s[16] != ' ' || isspace((unsigned char)s[17])) {
		add(c, l->no, 16, "CC12", "a breaking change footer is \"%.15s: \" followed "
		    "by a description (rule 12)", s);
		return;
	}
	if (!in_footer)
		add(c, l->no, 1, "CC11", "a BREAKING CHANGE footer belongs in the footers, the "
		    "last paragraph, after the body (rules 8 and 11)");
}

/* Judges body and footers: lines[0] is the header. */
static void check_rest(struct ctx *c, const struct line *v, size_t n)
{
	size_t foot = n;	/* first line of the footer paragraph */

	if (n > 1 && !is_blank(&v[1]))
		add(c, v[1].no, 1, "CC6", "the body must begin one blank line after the "
		    "description (rule 6)");
	/* the last paragraph is the footers when it starts with one */
	for (size_t i = n; i-- > 1;) {
		if (is_blank(&v[i])) {
			size_t sep;

			if (i + 1 < n && footer_token(&v[i + 1], &sep))
				foot = i + 1;
			break;
		}
	}
	for (size_t i = 1; i < n; i++) {
		bool para_start = i > 0 && is_blank(&v[i - 1]);

		if (i < foot) {
			if (para_start)
				check_breaking(c, &v[i], false);
			continue;
		}
		{
			size_t sep = 0, tlen = footer_token(&v[i], &sep);

			if (starts_breaking(&v[i], "breaking change") ||
			    starts_breaking(&v[i], "breaking-change")) {
				check_breaking(c, &v[i], true);
				continue;
			}
			if (tlen == 0) {
				if (spaced_token(&v[i]))
					add(c, v[i].no, 1, "CC9", "a footer token uses '-' in place "
					    "of spaces, e.g. Reviewed-by (rule 9; only BREAKING CHANGE "
					    "has a space)");
				/* else: the value of the footer above goes on (rule 10) */
				continue;
			}
			if (tlen + sep >= v[i].len || isspace((unsigned char)v[i].s[tlen + sep]))
				add(c, v[i].no, (int)(tlen + sep) + 1, "CC8", "footer \"%.*s\" "
				    "needs a value right after its separator (rule 8: \"Token: "
				    "value\" or \"Token #value\")", (int)tlen, v[i].s);
		}
	}
}

/* git's own subjects: "Merge branch 'x'", "Merge remote-tracking branch",
 * "Merge tag", "Merge commit", "Merge pull request" (hosting sites), and
 * `git revert`'s "Revert \"...\"" / "Reapply \"...\"". */
static bool written_by_git(const struct line *h)
{
	static const char *const prefixes[] = {
		"Merge branch ", "Merge branches ", "Merge remote-tracking branch ",
		"Merge tag ", "Merge tags ", "Merge commit ", "Merge pull request ",
		"Merge remote branch ", NULL,
	};

	for (size_t i = 0; prefixes[i]; i++)
		if (starts(h, prefixes[i]))
			return true;
	return (starts(h, "Revert \"") || starts(h, "Reapply \"")) && h->s[h->len - 1] == '"';
}

/* Judges the cleaned lines v[0..n) (n > 0) as a whole message. */
static void judge(struct ctx *c, const struct line *v, size_t n)
{
	size_t off = 0;
	bool autosquash = false;

	if (written_by_git(&v[0]))
		return;
	/* git commit --fixup/--squash write "fixup! <subject>" (repeatable);
	 * --fixup=amend:/reword: write "amend! <subject>", then the new
	 * message, which replaces the old one when rebase squashes */
	for (;;) {
		struct line rest = { v[0].s + off, v[0].len - off, v[0].no };

		if (starts(&rest, "fixup! ") || starts(&rest, "amend! "))
			off += 7;
		else if (starts(&rest, "squash! "))
			off += 8;
		else
			break;
		autosquash = true;
	}
	if (autosquash && starts(&v[0], "amend! ") && n > 2 && is_blank(&v[1])) {
		judge(c, v + 2, n - 2);
		return;
	}
	if (autosquash) {
		struct line rest = { v[0].s + off, v[0].len - off, v[0].no };

		/* a fixup of a merge or revert keeps git's subject; a squash's
		 * body is folded into the target's message later */
		if (!written_by_git(&rest))
			check_header(c, &v[0], off);
		return;
	}
	check_header(c, &v[0], 0);
	check_rest(c, v, n);
}

size_t commit_msg_check(const char *msg, size_t len, const struct commit_msg_opts *o,
    const char *path, struct findings *out)
{
	struct ctx c = { o, path, out, 0 };
	struct line *v = NULL;
	size_t n = clean_lines(msg, len, o->comment_char ? o->comment_char : '#', &v);

	if (n == 0)
		add(&c, 1, 1, "CC1", "the commit message is empty (rule 1: \"type: "
		    "description\")");
	else
		judge(&c, v, n);
	free(v);
	return c.n;
}

/* --- the gate type ---------------------------------------------------- */

static const char *const commit_msg_keys[] = { "types", "scopes", "max_subject", NULL };

struct priv {
	struct strvec		types, scopes;
	struct commit_msg_opts	opts;
};

static int commit_msg_configure(struct gate *g, const cJSON *obj, const char *path,
    struct jsonget_err *err)
{
	struct priv *p = xcalloc(1, sizeof(*p));
	char kp[256];
	int rc;

	g->priv = p;
	if ((rc = jsonget_strings(obj, path, "types", 0, &p->types, err)) ||
	    (rc = jsonget_strings(obj, path, "scopes", 0, &p->scopes, err)) ||
	    (rc = jsonget_int(obj, path, "max_subject", 0, 1000, &p->opts.max_subject, err)))
		return rc;
	for (size_t i = 0; i < p->types.n; i++) {
		const char *t = p->types.v[i];
		size_t k = 0;

		while (t[k] && is_word_char(t[k]))
			k++;
		if (k == 0 || t[k] || !isalpha((unsigned char)t[0])) {
			snprintf(kp, sizeof(kp), "%s.types[%zu]", path, i);
			return jsonget_err_set(err, kp, "\"%s\" is not a type: a word of letters, "
			    "digits, '-' or '_', starting with a letter", t);
		}
	}
	for (size_t i = 0; i < p->scopes.n; i++) {
		const char *s = p->scopes.v[i];

		if (s[0] == '\0' || strpbrk(s, " \t()\n")) {
			snprintf(kp, sizeof(kp), "%s.scopes[%zu]", path, i);
			return jsonget_err_set(err, kp, "\"%s\" is not a scope: no spaces or "
			    "parentheses, not empty", s);
		}
	}
	p->opts.types = &p->types;
	p->opts.scopes = &p->scopes;
	/* judged in process: never handed a file batch, never spawned */
	g->batching = GATE_BATCH_NONE;
	g->cache = GATE_CACHE_NONE;
	return 0;
}

/* Never reached: a message gate has no include globs, so no file batch
 * is ever planned for it. Kept so the table's contract holds. */
static int commit_msg_argv(const struct gate *g, const char *root, const char *const *files,
    size_t n, const char *report, struct strvec *argv)
{
	(void)g, (void)root, (void)files, (void)n, (void)report, (void)argv;
	return -1;
}

static int commit_msg_parse(const struct gate *g, const struct gate_output *out,
    struct gate_result *r)
{
	(void)g, (void)out;
	r->status = GATE_ERROR;
	gate_result_msg(r, "a commit-msg gate judges commit messages (watchd check "
	    "--commit-msg FILE), not files");
	return 0;
}

static void commit_msg_release(struct gate *g)
{
	struct priv *p = g->priv;

	if (p == NULL)
		return;
	strvec_clear(&p->types);
	strvec_clear(&p->scopes);
	free(p);
	g->priv = NULL;
}

const struct gate_ops gate_commit_msg = {
	.type = "commit-msg",
	.keys = commit_msg_keys,
	.configure = commit_msg_configure,
	.argv = commit_msg_argv,
	.parse = commit_msg_parse,
	.message = true,
	.release = commit_msg_release,
};

const struct commit_msg_opts *commit_msg_gate_opts(const struct gate *g)
{
	if (g->ops != &gate_commit_msg || g->priv == NULL)
		return NULL;
	return &((const struct priv *)g->priv)->opts;
}
