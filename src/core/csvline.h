/*
 * csvline.h -- splitting one line of RFC 4180 CSV into fields, in place.
 */
#ifndef KS_CSVLINE_H
#define KS_CSVLINE_H

#include <stddef.h>

/* Splits the NUL-terminated `line` (no line terminator; a trailing '\r' is ignored) into at most
 * `max` fields, unquoting "..." fields ("" inside quotes is a quote) in place. Stores pointers
 * into `line` in fields[]. Returns the number of fields, or -1 when a quote is unterminated or
 * text follows a closing quote, or -2 when there are more than `max` fields. */
int ks_csv_split(char *line, char **fields, int max);

#endif /* KS_CSVLINE_H */
