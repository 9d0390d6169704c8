/*
 * sparse_jac.h -- sparse Jacobians of small stiff systems: the structural pattern found by
 * probing, Curtis-Powell-Reid column groups for forward differences, and a block-triangular LU
 * of the Rosenbrock iteration matrix M = d I - J.
 *
 *   - Pattern: f_i depends on z_j when a perturbation of z_j changes f_i at one of several probe
 *     points (ks_spj_probe ORs one point into a pattern). A dependence hidden at every probe
 *     point (e.g. behind a clamp) is missed; for a W-method this only changes the approximation
 *     of J, never the order of the method (Hairer & Wanner, Solving ODEs II, IV.7).
 *   - Column groups (Curtis, Powell & Reid, J Inst Maths Appl 13:117, 1974): columns whose row
 *     patterns are disjoint are perturbed together, so one evaluation of f gives every column of a
 *     group; columns are taken largest first (Coleman & More, SIAM J Numer Anal 20:187, 1983) and
 *     each put into the first group it does not conflict with. The number of groups is at least
 *     the largest number of nonzeros in a row.
 *   - Block triangular form: the strongly connected components of the dependence graph (Tarjan,
 *     SIAM J Comput 1:146, 1972), emitted so that a component comes after every component it
 *     depends on, make M block lower triangular (Duff & Reid, ACM TOMS 4:137, 1978). Each
 *     diagonal block is factored densely with partial pivoting; the entries outside the diagonal
 *     blocks enter the block forward substitution as they are.
 *
 * Sizes are bounded (KS_SPJ_MAXN states); nothing here allocates.
 */
#ifndef KS_SPARSE_JAC_H
#define KS_SPARSE_JAC_H

#define KS_SPJ_MAXN   64
#define KS_SPJ_MAXNNZ (KS_SPJ_MAXN * KS_SPJ_MAXN)

/* f = f(z) (a right-hand side with everything but z held fixed). */
typedef void (*ks_spj_fn)(const double *z, double *f, void *user);

/* The structure: pattern, column groups, block triangular form (built by ks_spj_build). */
typedef struct {
    int n, nnz;
    /* pattern of J in compressed columns (rows ascending); the diagonal is always present */
    int colptr[KS_SPJ_MAXN + 1];
    int rowind[KS_SPJ_MAXNNZ];
    /* column groups: group g holds the columns gcol[gptr[g] .. gptr[g + 1]) */
    int ngroup;
    int gptr[KS_SPJ_MAXN + 1], gcol[KS_SPJ_MAXN];
    /* blocks in solve order: block b holds the states bidx[bptr[b] .. bptr[b + 1]) */
    int nblock;
    int bptr[KS_SPJ_MAXN + 1], bidx[KS_SPJ_MAXN];
    int doff[KS_SPJ_MAXN + 1]; /* offset of block b's dense factors */
    /* entries inside diagonal blocks: value index k -> dense position dpos */
    int ndiag;
    int dk[KS_SPJ_MAXNNZ], dpos[KS_SPJ_MAXNNZ];
    /* entries outside them, by the block of their row (offptr[b] .. offptr[b + 1]) and within
     * it by row; offloc: the row's position in its block */
    int offptr[KS_SPJ_MAXN + 1];
    int offk[KS_SPJ_MAXNNZ], offloc[KS_SPJ_MAXNNZ], offcol[KS_SPJ_MAXNNZ];
} ks_spj;

/* Factors of M = d I - J in the block form of one ks_spj. */
typedef struct {
    double blk[KS_SPJ_MAXNNZ];    /* dense LU of each diagonal block (1 x 1: the reciprocal) */
    int piv[KS_SPJ_MAXN];         /* pivots of block b at bptr[b] */
    double dinv[KS_SPJ_MAXN];     /* reciprocals of U's diagonal of block b at bptr[b] */
    double offval[KS_SPJ_MAXNNZ]; /* J entries outside the diagonal blocks, in offk order */
} ks_spj_lu;

/* ORs into pat (row-major n x n, pat[i n + j] = 1 when f_i depends on z_j) the dependences
 * visible at the point z: each z_j is moved by +-1e-4 max(|z_j|, 1) and every f_i that changes
 * is marked. zw, f0, f1: n doubles of scratch. Costs 2 n + 1 evaluations of fn. */
void ks_spj_probe(int n, const double *z, ks_spj_fn fn, void *user, double *zw, double *f0,
                  double *f1, unsigned char *pat);

/* Builds the structure from the pattern (row-major n x n; the diagonal is added). Returns 0, or
 * -1 when n is outside 1..KS_SPJ_MAXN. */
int ks_spj_build(ks_spj *s, int n, const unsigned char *pat);

/* Forward-difference Jacobian at z (f0 = fn(z)) with one evaluation of fn per column group:
 * jval[k] is the entry of pattern position k (compressed columns). Increment of column j:
 * sqrt(eps) max(|z_j|, 1) as represented (Dennis & Schnabel 1996, section 5.4): for a pattern
 * that holds every dependence of fn, the result equals the column-by-column differences.
 * zw, fw: n doubles of scratch. Returns the number of evaluations of fn. */
int ks_spj_jacobian(const ks_spj *s, const double *z, const double *f0, ks_spj_fn fn, void *user,
                    double *zw, double *fw, double *jval);

/* The dense Jacobian (column-major n x n) of the entries jval (tests, diagnostics). */
void ks_spj_to_dense(const ks_spj *s, const double *jval, double *jac_colmajor);

/* Factors M = d I - J (J given by jval). Returns 0, or nonzero when a diagonal block is
 * singular to working precision. */
int ks_spj_factor(const ks_spj *s, const double *jval, double d, ks_spj_lu *lu);

/* Solves M x = b in place with the factors of ks_spj_factor. */
void ks_spj_solve(const ks_spj *s, const ks_spj_lu *lu, double *b);

#endif /* KS_SPARSE_JAC_H */
