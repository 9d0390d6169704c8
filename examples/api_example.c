/*
 * api_example.c -- the example program of docs/API.md: simulate esketamine 56 mg intranasal
 * (two 28 mg devices 5 min apart) for a 70 kg adult and print the plasma peak. The test suite
 * compiles and runs this file.
 */
#include <ketasim.h>

#include <stdio.h>
#include <string.h>

static const char scenario_json[] =
    "{\"name\": \"esketamine 56 mg\","
    " \"patient\": {\"weight_kg\": 70, \"age_y\": 40, \"sex\": \"male\"},"
    " \"doses\": [{\"drug\": \"esketamine\", \"route\": \"intranasal\", \"devices\": 2}],"
    " \"span\": {\"hours\": 24},"
    " \"output\": {\"step_min\": 1}}";

int main(void)
{
    int code = 1;
    ks_ctx *ctx = ks_ctx_create();
    ks_params *params = NULL;
    ks_scenario *scen = NULL;
    ks_result *res = NULL;
    if (!ctx)
        return 1;
    params = ks_params_create_default(ctx);
    if (!params)
        goto fail;
    scen = ks_scenario_parse(ctx, scenario_json, strlen(scenario_json), "example", NULL);
    if (!scen)
        goto fail;
    ks_sim_options opt;
    ks_sim_options_init(&opt); /* CVODE reference solver */
    res = ks_simulate(ctx, params, scen, &opt);
    if (!res)
        goto fail;
    long j = ks_result_output_index(res, "plasma_s_ketamine");
    if (j < 0) {
        fprintf(stderr, "no output plasma_s_ketamine\n");
        goto done;
    }
    ks_nca nca;
    if (ks_result_nca(ctx, res, 0, (size_t)j, &nca) != KS_OK)
        goto fail;
    printf("esketamine 56 mg IN: Cmax %.1f %s at %.0f min\n", nca.cmax,
           ks_result_output_unit(res, (size_t)j), nca.tmax_h * 60.0);
    code = 0;
    goto done;
fail:
    fprintf(stderr, "error: %s\n", ks_ctx_message(ctx));
done:
    ks_result_free(res);
    ks_scenario_free(scen);
    ks_params_free(params);
    ks_ctx_free(ctx);
    return code;
}
