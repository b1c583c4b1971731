/* Command-line options and arguments, parsed from a declaration in the
 * manner of tmux's args_parse: a command says which options it takes and
 * how many arguments, and this one parser applies that to argv. */
#ifndef WD_ARGS_H
#define WD_ARGS_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/err.h"

#define ARGS_VALUE	0x1	/* takes a value: --name VALUE or --name=VALUE */
#define ARGS_REPEAT	0x2	/* read with args_next: every value counts */
/* Also accepted as a one-dash letter (-n VALUE, -nVALUE, -f). */
#define ARGS_LETTER(c)	((unsigned)(unsigned char)(c) << 8)

/* One option; an array of them ends with { NULL, 0 }. */
struct args_opt {
	const char	*name;		/* without the dashes: "timeout" */
	unsigned	 flags;		/* ARGS_VALUE | ARGS_REPEAT | ARGS_LETTER(c) */
};

/* What a command accepts. Zero-initialised: no option, no argument. */
struct args_spec {
	const struct args_opt	*opts;		/* or NULL: no options */
	int			 lower;		/* fewest arguments */
	int			 upper;		/* most arguments, or -1: no limit */
	const char		*missing;	/* said when too few, or NULL */
	bool			 options_first;	/* options end at the first argument,
						 * which leads what follows (the
						 * global options before a command) */
};

/* One option as given; the value is borrowed from argv. */
struct args_value {
	const struct args_opt	*opt;
	const char		*value;		/* NULL for an option without value */
};

/* A parse. argv's strings are borrowed from the argv that was parsed and
 * must outlive the struct; the arrays are owned (args_release). */
struct args {
	const struct args_spec	*spec;		/* borrowed */
	struct args_value	*vals;		/* every option, in command-line order */
	size_t			 nvals;
	char			**argv;		/* the arguments, NULL-terminated */
	int			 argc;
};

/* Parses argc/argv (the words after the command name, or after the
 * program's for the global options) against spec.
 * Options may come before, between or after the arguments unless
 * spec->options_first; "--" ends the options; "-" is an argument. An
 * option given twice keeps every value (args_get answers the last). 0, or
 * WD_EUSAGE with err->msg naming the offending word ("unknown option
 * '--bogus'", "option '--timeout' needs a value", "unexpected argument
 * 'b'"), in which case *a holds nothing to release. */
int args_parse(struct args *a, const struct args_spec *spec, int argc, char **argv,
    struct wd_err *err);
/* Frees the arrays (not the strings). */
void args_release(struct args *a);
/* How many times option name was given. A name the spec does not declare
 * is a BUG(), so a typo cannot read as "not given". */
int args_has(const struct args *a, const char *name);
/* The last value given for name, or NULL when it was not given. */
const char *args_get(const struct args *a, const char *name);
/* The values of an ARGS_REPEAT option in order: start with *it = 0; NULL
 * after the last. */
const char *args_next(const struct args *a, const char *name, size_t *it);

#endif
