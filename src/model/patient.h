/*
 * patient.h -- the covariates of one (virtual) patient, as the model sees them.
 */
#ifndef KS_PATIENT_H
#define KS_PATIENT_H

typedef enum { KS_SEX_MALE = 0, KS_SEX_FEMALE = 1 } ks_sex;

/* CYP2B6 metaboliser status, from the number of *6 alleles (0, 1 or 2). */
typedef enum { KS_CYP2B6_NORMAL = 0, KS_CYP2B6_INTERMEDIATE = 1, KS_CYP2B6_POOR = 2 } ks_cyp2b6;

/* BDNF rs6265 (Val66Met). */
typedef enum { KS_BDNF_VALVAL = 0, KS_BDNF_VALMET = 1, KS_BDNF_METMET = 2 } ks_bdnf;

typedef struct {
    long id;          /* subject identifier (NONMEM ID, or 1) */
    double weight_kg; /* > 0 */
    double age_y;     /* >= 18 for the adult models */
    ks_sex sex;
    ks_cyp2b6 cyp2b6;
    ks_bdnf bdnf;
    int east_asian; /* 1: East Asian ancestry (esketamine clearance covariate, Perez-Ruixo 2021) */
} ks_patient;

/* The reference patient of the parameter table: 70 kg, 40 y, male, CYP2B6 normal, Val/Val. */
void ks_patient_init(ks_patient *p);

#endif /* KS_PATIENT_H */
