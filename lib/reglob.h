/* Python regular expressions turned into globs (lib/glob.h), for the
 * subset where both describe exactly the same set of paths. pre-commit
 * matches its files/exclude regexes with re.search against paths relative
 * to the repository root; watchd matches globs against the same paths. */
#ifndef WD_REGLOB_H
#define WD_REGLOB_H

#include "lib/strvec.h"

/* Cap on the globs one regex may expand to (alternations and optional
 * parts multiply). */
#define REGLOB_MAX 32

/* Appends to out globs that together match exactly the paths re.search(re,
 * path) matches, and returns 0; an empty result means "matches no path"
 * ("^$"). Returns 1 when the translation would not be exact (a '.' or
 * class that would also match '/', a lookaround, a quantifier on a
 * literal, \w and the like, more than REGLOB_MAX globs), leaving out
 * untouched and pointing *why at a static reason. Paths are assumed
 * normalised: no leading '/', no empty segment. Supported: literals and
 * escaped literals, ^ $ \A \Z, .* .+ (the latter only ending a pattern
 * after '/'), [^/] [^/]* [^/]+, positive classes without '/', groups
 * (...) (?:...) (?P<n>...) with |, '?' after an atom, and a leading (?x). */
int reglob_translate(const char *re, struct strvec *out, const char **why);

#endif
