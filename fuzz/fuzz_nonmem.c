/*
 * fuzz_nonmem.c -- libFuzzer target: the NONMEM record reader on arbitrary bytes. Every input
 * must either give a scenario or fail with KS_ERR_INPUT and a one-line message naming the
 * file; never crash, leak or read out of bounds.
 */
#include "fuzz_check.h"

#include "core/internal.h"
#include "io/nonmem.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ks_ctx *ctx = ks_ctx_create();
    if (!ctx)
        return 0;
    ks_scenario *s = ks_scenario_parse_nonmem_text(ctx, (const char *)data, size, "fuzz.csv");
    if (s) {
        if (s->n_subjects == 0)
            abort();
        for (size_t k = 0; k < s->n_subjects; k++) {
            const ks_subject *sub = &s->subjects[k];
            fuzz_check_times(sub);
            for (size_t i = 1; i < sub->n_doses; i++)
                if (sub->doses[i].t_h < sub->doses[i - 1].t_h)
                    abort();
        }
        ks_scenario_free(s);
    } else {
        fuzz_check_failure(ctx, "fuzz.csv");
    }
    ks_ctx_free(ctx);
    return 0;
}
