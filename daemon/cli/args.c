/* The command-line parser behind every command's declaration (args.h).
 * It keeps the getopt_long habits that scripts may rely on -- options may
 * follow arguments, "--name VALUE" takes the next word even when it starts
 * with a dash, the last of a repeated option wins -- but takes no
 * abbreviations: adding --gate must not change what --g meant. */
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "lib/log.h"
#include "lib/xmalloc.h"

static const struct args_opt *find_name(const struct args_spec *spec, const char *name,
    size_t len)
{
	for (const struct args_opt *o = spec->opts; o && o->name; o++)
		if (strlen(o->name) == len && memcmp(o->name, name, len) == 0)
			return o;
	return NULL;
}

static const struct args_opt *find_letter(const struct args_spec *spec, char c)
{
	for (const struct args_opt *o = spec->opts; o && o->name; o++)
		if (c != '\0' && (o->flags >> 8 & 0xff) == (unsigned char)c)
			return o;
	return NULL;
}

/* The option at argv[*i] (a word starting with '-', not "-" or "--"),
 * with its value; advances *i past a value in the next word. */
static int take_option(struct args *a, int argc, char **argv, int *i, struct wd_err *err)
{
	const char *word = argv[*i], *value = NULL;
	const struct args_opt *o;
	size_t len;

	if (word[1] == '-') {
		const char *eq = strchr(word + 2, '=');

		len = eq ? (size_t)(eq - word) : strlen(word);
		o = find_name(a->spec, word + 2, len - 2);
		if (o == NULL)
			return wd_err_set(err, WD_EUSAGE, "unknown option '%.*s'", (int)len, word);
		if (eq && !(o->flags & ARGS_VALUE))
			return wd_err_set(err, WD_EUSAGE, "option '--%s' takes no value", o->name);
		if (eq)
			value = eq + 1;
	} else {
		len = 2;
		o = find_letter(a->spec, word[1]);
		/* "-fx" is no option of ours: letters do not combine */
		if (o == NULL || (word[2] && !(o->flags & ARGS_VALUE)))
			return wd_err_set(err, WD_EUSAGE, "unknown option '%s'", word);
		if (word[2])
			value = word + 2;
	}
	if ((o->flags & ARGS_VALUE) && value == NULL) {
		if (*i + 1 >= argc)
			return wd_err_set(err, WD_EUSAGE, "option '%.*s' needs a value", (int)len,
			    word);
		value = argv[++*i];
	}
	a->vals[a->nvals].opt = o;
	a->vals[a->nvals++].value = value;
	return 0;
}

int args_parse(struct args *a, const struct args_spec *spec, int argc, char **argv,
    struct wd_err *err)
{
	bool options_done = false;
	int rc = 0;

	memset(a, 0, sizeof(*a));
	a->spec = spec;
	/* each word is at most one option or one argument */
	a->vals = xcalloc((size_t)argc + 1, sizeof(*a->vals));
	a->argv = xcalloc((size_t)argc + 1, sizeof(*a->argv));
	for (int i = 0; i < argc; i++) {
		const char *w = argv[i];

		if (options_done || w[0] != '-' || w[1] == '\0') {
			a->argv[a->argc++] = argv[i];
			options_done |= spec->options_first;
		} else if (strcmp(w, "--") == 0)
			options_done = true;
		else if ((rc = take_option(a, argc, argv, &i, err)) != 0)
			goto out;
	}
	if (a->argc < spec->lower)
		rc = wd_err_set(err, WD_EUSAGE, "%s", spec->missing ? spec->missing :
		    "missing argument");
	else if (spec->upper >= 0 && a->argc > spec->upper)
		rc = wd_err_set(err, WD_EUSAGE, "unexpected argument '%s'", a->argv[spec->upper]);
out:
	if (rc)
		args_release(a);
	return rc;
}

void args_release(struct args *a)
{
	free(a->vals);
	free(a->argv);
	a->vals = NULL;
	a->argv = NULL;
	a->nvals = 0;
	a->argc = 0;
}

static const struct args_opt *declared(const struct args *a, const char *name)
{
	const struct args_opt *o = find_name(a->spec, name, strlen(name));

	if (o == NULL)
		BUG("option --%s is not declared", name);
	return o;
}

int args_has(const struct args *a, const char *name)
{
	const struct args_opt *o = declared(a, name);
	int n = 0;

	for (size_t i = 0; i < a->nvals; i++)
		n += a->vals[i].opt == o;
	return n;
}

const char *args_get(const struct args *a, const char *name)
{
	const struct args_opt *o = declared(a, name);

	for (size_t i = a->nvals; i-- > 0;)
		if (a->vals[i].opt == o)
			return a->vals[i].value;
	return NULL;
}

const char *args_next(const struct args *a, const char *name, size_t *it)
{
	const struct args_opt *o = declared(a, name);

	if (!(o->flags & ARGS_REPEAT))
		BUG("option --%s is read as repeatable but not declared ARGS_REPEAT", name);
	while (*it < a->nvals) {
		const struct args_value *v = &a->vals[(*it)++];

		if (v->opt == o)
			return v->value;
	}
	return NULL;
}
