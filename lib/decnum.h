/* Decimal numbers inside tool output, which is not NUL-terminated where it
 * ends and may hold digits enough to overflow an int: atoi() reads past
 * the end of such a buffer and its overflow is undefined. */
#ifndef WD_DECNUM_H
#define WD_DECNUM_H

#include <stddef.h>

/* The value of the decimal digits that begin s, reading no more than n
 * bytes; INT_MAX when larger, 0 when s[0] is not a digit. */
int decnum(const char *s, size_t n);

#endif
