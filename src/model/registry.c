/*
 * registry.c -- union of the parameter names read by the model layers.
 */
#include "registry.h"
#include "pd.h"
#include "pk.h"
#include "../population/population.h"

#include <string.h>

typedef const char *const *(*ks_names_fn)(size_t *count);

static const ks_names_fn layers[] = {ks_population_param_names, ks_pk_param_names,
                                     ks_pd_param_names};

int ks_model_param_known(const char *name)
{
    for (size_t l = 0; l < sizeof layers / sizeof layers[0]; l++) {
        size_t n;
        const char *const *names = layers[l](&n);
        for (size_t i = 0; i < n; i++)
            if (strcmp(names[i], name) == 0)
                return 1;
    }
    return 0;
}

void ks_model_param_each(void (*fn)(const char *name, void *user), void *user)
{
    for (size_t l = 0; l < sizeof layers / sizeof layers[0]; l++) {
        size_t n;
        const char *const *names = layers[l](&n);
        for (size_t i = 0; i < n; i++)
            fn(names[i], user);
    }
}
