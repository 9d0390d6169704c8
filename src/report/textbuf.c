/*
 * textbuf.c -- the growable text buffer of the report writers.
 */
#include "report/textbuf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ks_tb_init(ks_tb *tb)
{
    tb->p = NULL;
    tb->len = 0;
    tb->cap = 0;
    tb->oom = 0;
}

void ks_tb_free(ks_tb *tb)
{
    if (!tb)
        return;
    free(tb->p);
    ks_tb_init(tb);
}

/* Makes room for `extra` more bytes plus the NUL; 0 on success. */
static int tb_reserve(ks_tb *tb, size_t extra)
{
    if (tb->oom)
        return -1;
    if (extra > (size_t)-1 / 2 - tb->len - 1) {
        tb->oom = 1;
        return -1;
    }
    size_t need = tb->len + extra + 1;
    if (need <= tb->cap)
        return 0;
    size_t cap = tb->cap ? tb->cap : 256;
    while (cap < need)
        cap *= 2;
    char *p = realloc(tb->p, cap);
    if (!p) {
        tb->oom = 1;
        return -1;
    }
    tb->p = p;
    tb->cap = cap;
    return 0;
}

void ks_tb_printf(ks_tb *tb, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char small[256];
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) {
        tb->oom = 1;
        return;
    }
    if (tb_reserve(tb, (size_t)n) != 0)
        return;
    if ((size_t)n < sizeof small) {
        memcpy(tb->p + tb->len, small, (size_t)n + 1);
    } else {
        va_start(ap, fmt);
        vsnprintf(tb->p + tb->len, (size_t)n + 1, fmt, ap);
        va_end(ap);
    }
    tb->len += (size_t)n;
}

void ks_tb_puts(ks_tb *tb, const char *s)
{
    if (!s)
        return;
    size_t n = strlen(s);
    if (tb_reserve(tb, n) != 0)
        return;
    memcpy(tb->p + tb->len, s, n + 1);
    tb->len += n;
}

void ks_tb_escape(ks_tb *tb, const char *s)
{
    if (!s)
        return;
    for (; *s; s++) {
        switch (*s) {
        case '&':
            ks_tb_puts(tb, "&amp;");
            break;
        case '<':
            ks_tb_puts(tb, "&lt;");
            break;
        case '>':
            ks_tb_puts(tb, "&gt;");
            break;
        case '"':
            ks_tb_puts(tb, "&quot;");
            break;
        case '\'':
            ks_tb_puts(tb, "&#39;");
            break;
        default:
            if (tb_reserve(tb, 1) == 0) {
                tb->p[tb->len++] = *s;
                tb->p[tb->len] = '\0';
            }
        }
    }
}

const char *ks_tb_str(const ks_tb *tb)
{
    return tb->p ? tb->p : "";
}

ks_status ks_tb_check(ks_ctx *ctx, const ks_tb *tb)
{
    if (tb->oom)
        return ks_fail(ctx, KS_ERR_NOMEM, "report: out of memory while composing text");
    return KS_OK;
}
