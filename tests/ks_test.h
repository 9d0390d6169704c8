/*
 * ks_test.h -- a minimal test harness: CHECK macros that count failures and print where they
 * happened, and a closing line "N passed, N failed" per test program.
 */
#ifndef KS_TEST_H
#define KS_TEST_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static int ks_test_pass_ = 0, ks_test_fail_ = 0;

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (cond) {                                                                                \
            ks_test_pass_++;                                                                       \
        } else {                                                                                   \
            ks_test_fail_++;                                                                       \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);               \
        }                                                                                          \
    } while (0)

/* |a - b| <= rel * max(|a|, |b|) + abs_tol */
#define CHECK_CLOSE(a, b, rel, abs_tol)                                                            \
    do {                                                                                           \
        double ka_ = (double)(a), kb_ = (double)(b);                                               \
        double kd_ = fabs(ka_ - kb_);                                                              \
        double km_ = fmax(fabs(ka_), fabs(kb_));                                                   \
        if (isfinite(ka_) && isfinite(kb_) && kd_ <= (rel)*km_ + (abs_tol)) {                      \
            ks_test_pass_++;                                                                       \
        } else {                                                                                   \
            ks_test_fail_++;                                                                       \
            fprintf(stderr, "%s:%d: CHECK_CLOSE failed: %s = %.12g, %s = %.12g\n", __FILE__,       \
                    __LINE__, #a, ka_, #b, kb_);                                                   \
        }                                                                                          \
    } while (0)

static inline int ks_test_finish(const char *name)
{
    printf("%s: %d passed, %d failed\n", name, ks_test_pass_, ks_test_fail_);
    return ks_test_fail_ == 0 ? 0 : 1;
}

#endif /* KS_TEST_H */
