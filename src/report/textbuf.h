/*
 * textbuf.h -- a growable text buffer for the report writers: printf-style appends, XML
 * escaping, and a sticky out-of-memory flag checked once at the end.
 */
#ifndef KS_TEXTBUF_H
#define KS_TEXTBUF_H

#include <stddef.h>

#include "core/internal.h"

typedef struct {
    char *p;    /* NUL-terminated text, owned (NULL while empty) */
    size_t len; /* bytes used, without the NUL */
    size_t cap; /* bytes allocated */
    int oom;    /* 1 after an allocation failed: further appends are ignored */
} ks_tb;

/* An empty buffer (no allocation until the first append). */
void ks_tb_init(ks_tb *tb);
/* Releases the text; the buffer is empty again. */
void ks_tb_free(ks_tb *tb);
/* Appends formatted text. */
void ks_tb_printf(ks_tb *tb, const char *fmt, ...) KS_PRINTF(2, 3);
/* Appends a string as is. */
void ks_tb_puts(ks_tb *tb, const char *s);
/* Appends a string with &, <, >, " and ' replaced by XML entities (valid in HTML and SVG
 * text and attribute values). NULL appends nothing. */
void ks_tb_escape(ks_tb *tb, const char *s);
/* The text so far ("" when empty); owned by the buffer. */
const char *ks_tb_str(const ks_tb *tb);
/* KS_OK, or KS_ERR_NOMEM recorded on ctx when an append failed. */
ks_status ks_tb_check(ks_ctx *ctx, const ks_tb *tb);

#endif /* KS_TEXTBUF_H */
