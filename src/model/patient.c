/*
 * patient.c -- the reference patient of the parameter table.
 */
#include "patient.h"

void ks_patient_init(ks_patient *p)
{
    if (!p) {
        return;
    }
    p->id = 1;
    p->weight_kg = 70.0; /* pk.cov.weight_ref */
    p->age_y = 40.0;     /* below the Perez-Ruixo 2021 age threshold (60 y) */
    p->sex = KS_SEX_MALE;
    p->cyp2b6 = KS_CYP2B6_NORMAL;
    p->bdnf = KS_BDNF_VALVAL;
    p->east_asian = 0;
}
