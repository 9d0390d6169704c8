/*
 * detail.h -- the detail text of a validation row: printf-style appending to a fixed buffer,
 * shared by the simulation measurements (measure.c) and the trial ones (measure_trial.c).
 */
#ifndef KS_VALIDATE_DETAIL_H
#define KS_VALIDATE_DETAIL_H

#include <stddef.h>

/* Appends printf-style text to the NUL-terminated `buf` of `size` bytes, cutting what does not
 * fit; does nothing when `buf` is already full. */
#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
void ks_detail_append(char *buf, size_t size, const char *fmt, ...);

#endif /* KS_VALIDATE_DETAIL_H */
