/*
 * registry.h -- the names of every parameter some model layer reads, so that a parameter file
 * with an unknown (misspelt) or missing name is rejected before anything runs.
 */
#ifndef KS_REGISTRY_H
#define KS_REGISTRY_H

#include <stddef.h>

/* 1 when some layer reads parameter `name`. */
int ks_model_param_known(const char *name);
/* Calls fn(name, user) for every parameter name a layer reads. */
void ks_model_param_each(void (*fn)(const char *name, void *user), void *user);

#endif /* KS_REGISTRY_H */
