/*
 * fuzz_scenario.c -- libFuzzer target: the JSON scenario parser on arbitrary bytes. Every
 * input must either parse or fail with KS_ERR_INPUT and a one-line message; never crash,
 * leak or read out of bounds. Dosing files are disabled so that no input opens a file.
 */
#include "fuzz_check.h"

#include "core/internal.h"
#include "io/scenario_build.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ks_ctx *ctx = ks_ctx_create();
    if (!ctx)
        return 0;
    ks_scenario *s =
        ks_scenario_parse_ex(ctx, (const char *)data, size, "fuzz.json", NULL, KS_PARSE_NO_FILES);
    if (s) {
        /* Invariants of a parsed scenario. */
        if (s->n_subjects != 1 || !(s->t_end_h > 0.0))
            abort();
        const ks_subject *sub = &s->subjects[0];
        fuzz_check_times(sub);
        for (size_t i = 0; i < sub->n_doses; i++)
            if (!(sub->doses[i].amount_mg > 0.0) || sub->doses[i].t_h < 0.0 ||
                (i && sub->doses[i].t_h < sub->doses[i - 1].t_h))
                abort();
        ks_scenario_free(s);
    } else {
        fuzz_check_failure(ctx, "fuzz.json");
    }
    ks_ctx_free(ctx);
    return 0;
}
