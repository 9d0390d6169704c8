/*
 * fast_pk.c -- exact propagation of a linear time-invariant system with a ladder of
 * precomputed propagators (fast_pk.h).
 */
#include "solve/fast_pk.h"

#include "core/internal.h"
#include "solve/expm.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define FPK_MAXN   64
#define FPK_MAXNNZ 1024
#define FPK_CACHE  4 /* off-grid intervals kept */

/* Ladder sizes in quanta (1/16 min): 1/16 ... 1/2, 1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30, 60 min.
 * Each size after the first is the sum of two earlier ones (compose[]). */
static const long ladder[KS_FASTPK_NSIZES] = {1,  2,  4,   8,   16,  32,  48,  64,
                                              80, 96, 160, 192, 240, 320, 480, 960};
static const int compose[KS_FASTPK_NSIZES][2] = {
    {-1, -1}, {0, 0}, {1, 1}, {2, 2}, {3, 3},  {4, 4},   {5, 4},   {5, 5},
    {7, 4},   {6, 6}, {8, 8}, {9, 9}, {10, 8}, {10, 10}, {12, 12}, {14, 14},
};

typedef struct {
    double tau;
    unsigned long used;
    double *m; /* per component: E then Phi (2 nc^2), at comp_off2[c] */
} fpk_slot;

struct ks_fast_pk {
    int nmax;
    /* system */
    int n, nnz;
    int row[FPK_MAXNNZ], col[FPK_MAXNNZ];
    double val[FPK_MAXNNZ];
    int valid;
    /* components */
    int ncomp;
    int comp_n[FPK_MAXN];
    int comp_idx[FPK_MAXN][FPK_MAXN];
    size_t comp_off[FPK_MAXN];  /* offset of the component's ladder in ladder_buf */
    size_t comp_off2[FPK_MAXN]; /* offset of the component's pair (E, Phi) in a slot */
    /* structural pattern of E and Phi per component: row q of component c has the columns
     * pcol[pptr[c][q] .. pptr[c][q + 1]) (ascending), the states whose amount reaches state q
     * along A (elsewhere E and Phi are exactly 0) */
    int pptr[FPK_MAXN][FPK_MAXN + 1];
    int pcol[FPK_MAXN * FPK_MAXN];
    double *ladder_buf; /* per component, per size: E (nc^2) then Phi (nc^2) */
    fpk_slot slot[FPK_CACHE];
    unsigned long clock;
    long n_expm;
    /* scratch */
    double *a;    /* dense component A, nmax^2 */
    double *aug;  /* (2 nmax)^2 */
    double *eaug; /* (2 nmax)^2 */
    double xc[FPK_MAXN], uc[FPK_MAXN], yc[FPK_MAXN];
    ks_expm_work ew;
};

long ks_fast_pk_size(int i)
{
    return i >= 0 && i < KS_FASTPK_NSIZES ? ladder[i] : 0;
}

long ks_fast_pk_expm_count(const ks_fast_pk *p)
{
    return p ? p->n_expm : 0;
}

void ks_fast_pk_free(ks_fast_pk *p)
{
    if (!p) {
        return;
    }
    free(p->ladder_buf);
    for (int s = 0; s < FPK_CACHE; s++) {
        free(p->slot[s].m);
    }
    free(p->a);
    free(p->aug);
    free(p->eaug);
    ks_expm_work_release(&p->ew);
    free(p);
}

ks_fast_pk *ks_fast_pk_create(ks_ctx *ctx, int nmax)
{
    if (nmax < 1 || nmax > FPK_MAXN) {
        ks_fail(ctx, KS_ERR_USAGE, "ks_fast_pk_create: size outside 1..%d (got %d)", FPK_MAXN,
                nmax);
        return NULL;
    }
    ks_fast_pk *p = ks_calloc(ctx, 1, sizeof *p);
    if (!p) {
        return NULL;
    }
    const size_t nn = (size_t)nmax * (size_t)nmax;
    p->nmax = nmax;
    p->ladder_buf = ks_calloc(ctx, (size_t)KS_FASTPK_NSIZES * 2 * nn, sizeof(double));
    p->a = ks_calloc(ctx, nn, sizeof(double));
    p->aug = ks_calloc(ctx, 4 * nn, sizeof(double));
    p->eaug = ks_calloc(ctx, 4 * nn, sizeof(double));
    int ok = p->ladder_buf && p->a && p->aug && p->eaug;
    for (int s = 0; s < FPK_CACHE && ok; s++) {
        p->slot[s].m = ks_calloc(ctx, 2 * nn, sizeof(double));
        p->slot[s].tau = NAN;
        ok = p->slot[s].m != NULL;
    }
    if (!ok || ks_expm_work_init(ctx, &p->ew, 2 * nmax) != KS_OK) {
        ks_fast_pk_free(p);
        return NULL;
    }
    return p;
}

/* Union-find root with path halving. */
static int uf_find(int *parent, int i)
{
    while (parent[i] != i) {
        parent[i] = parent[parent[i]];
        i = parent[i];
    }
    return i;
}

/* E and Phi of component c for interval tau, into e and phi (nc x nc row-major), from one
 * exponential of [[A tau, I tau], [0, 0]] (Van Loan 1978, Theorem 1). */
static ks_status component_expm(ks_ctx *ctx, ks_fast_pk *p, int c, double tau, double *e,
                                double *phi)
{
    const int nc = p->comp_n[c];
    const size_t un = (size_t)nc, n2 = 2 * un;
    /* dense component block of A */
    memset(p->a, 0, un * un * sizeof(double));
    for (int k = 0; k < p->nnz; k++) {
        int i = -1, j = -1;
        for (int q = 0; q < nc; q++) {
            if (p->comp_idx[c][q] == p->row[k]) {
                i = q;
            }
            if (p->comp_idx[c][q] == p->col[k]) {
                j = q;
            }
        }
        if (i >= 0 && j >= 0) {
            p->a[(size_t)i * un + (size_t)j] += p->val[k];
        }
    }
    memset(p->aug, 0, n2 * n2 * sizeof(double));
    for (size_t i = 0; i < un; i++) {
        for (size_t j = 0; j < un; j++) {
            p->aug[i * n2 + j] = p->a[i * un + j] * tau;
        }
        p->aug[i * n2 + un + i] = tau;
    }
    ks_status st = ks_expm(ctx, &p->ew, (int)n2, p->aug, p->eaug);
    if (st != KS_OK) {
        return st;
    }
    p->n_expm++;
    for (size_t i = 0; i < un; i++) {
        memcpy(e + i * un, p->eaug + i * n2, un * sizeof(double));
        memcpy(phi + i * un, p->eaug + i * n2 + un, un * sizeof(double));
    }
    return KS_OK;
}

ks_status ks_fast_pk_setup(ks_ctx *ctx, ks_fast_pk *p, int n, int nnz, const int *row,
                           const int *col, const double *val)
{
    if (!p || n < 1 || n > p->nmax || nnz < 0 || nnz > FPK_MAXNNZ) {
        return ks_fail(ctx, KS_ERR_USAGE, "ks_fast_pk_setup: system size out of range (n %d)", n);
    }
    const size_t bytes_i = (size_t)nnz * sizeof(int), bytes_d = (size_t)nnz * sizeof(double);
    if (p->valid && p->n == n && p->nnz == nnz && memcmp(p->row, row, bytes_i) == 0 &&
        memcmp(p->col, col, bytes_i) == 0 && memcmp(p->val, val, bytes_d) == 0) {
        return KS_OK;
    }
    p->valid = 0;
    p->n = n;
    p->nnz = nnz;
    memcpy(p->row, row, bytes_i);
    memcpy(p->col, col, bytes_i);
    memcpy(p->val, val, bytes_d);
    for (int s = 0; s < FPK_CACHE; s++) {
        p->slot[s].tau = NAN;
    }
    /* connected components of the coupling graph */
    int parent[FPK_MAXN];
    for (int i = 0; i < n; i++) {
        parent[i] = i;
    }
    for (int k = 0; k < nnz; k++) {
        if (row[k] < 0 || row[k] >= n || col[k] < 0 || col[k] >= n) {
            return ks_fail(ctx, KS_ERR_USAGE, "ks_fast_pk_setup: entry %d out of range", k);
        }
        if (val[k] != 0.0) {
            int a = uf_find(parent, row[k]), b = uf_find(parent, col[k]);
            if (a != b) {
                parent[a] = b;
            }
        }
    }
    int comp_of_root[FPK_MAXN];
    for (int i = 0; i < n; i++) {
        comp_of_root[i] = -1;
    }
    p->ncomp = 0;
    size_t off = 0, off2 = 0;
    for (int i = 0; i < n; i++) {
        int r = uf_find(parent, i);
        if (comp_of_root[r] < 0) {
            comp_of_root[r] = p->ncomp;
            p->comp_n[p->ncomp++] = 0;
        }
        int c = comp_of_root[r];
        p->comp_idx[c][p->comp_n[c]++] = i;
    }
    for (int c = 0; c < p->ncomp; c++) {
        size_t nn = (size_t)p->comp_n[c] * (size_t)p->comp_n[c];
        p->comp_off[c] = off;
        p->comp_off2[c] = off2;
        off += (size_t)KS_FASTPK_NSIZES * 2 * nn;
        off2 += 2 * nn;
    }
    /* patterns: j reaches i along the transfers of A (transitive closure, Warshall) */
    int npcol = 0;
    for (int c = 0; c < p->ncomp; c++) {
        const int nc = p->comp_n[c];
        unsigned char reach[FPK_MAXN][FPK_MAXN];
        memset(reach, 0, sizeof reach);
        for (int q = 0; q < nc; q++) {
            reach[q][q] = 1;
        }
        for (int k = 0; k < nnz; k++) {
            int i = -1, j = -1;
            for (int q = 0; q < nc; q++) {
                i = p->comp_idx[c][q] == row[k] ? q : i;
                j = p->comp_idx[c][q] == col[k] ? q : j;
            }
            if (i >= 0 && j >= 0 && val[k] != 0.0) {
                reach[i][j] = 1; /* i receives from j */
            }
        }
        for (int k = 0; k < nc; k++) {
            for (int i = 0; i < nc; i++) {
                for (int j = 0; reach[i][k] && j < nc; j++) {
                    reach[i][j] |= reach[k][j];
                }
            }
        }
        for (int i = 0; i < nc; i++) {
            p->pptr[c][i] = npcol;
            for (int j = 0; j < nc; j++) {
                if (reach[i][j]) {
                    p->pcol[npcol++] = j;
                }
            }
        }
        p->pptr[c][nc] = npcol;
    }
    /* the ladder: smallest size by Van Loan, the others by composition */
    for (int c = 0; c < p->ncomp; c++) {
        const size_t un = (size_t)p->comp_n[c], nn = un * un;
        double *base = p->ladder_buf + p->comp_off[c];
        ks_status st =
            component_expm(ctx, p, c, (double)ladder[0] * KS_FASTPK_QUANTUM_H, base, base + nn);
        if (st != KS_OK) {
            return st;
        }
        for (int s = 1; s < KS_FASTPK_NSIZES; s++) {
            /* size s = a + b: E(s) = E(a) E(b); Phi(s) = E(b) Phi(a) + Phi(b) */
            const double *ea = base + (size_t)compose[s][0] * 2 * nn, *pa = ea + nn;
            const double *eb = base + (size_t)compose[s][1] * 2 * nn, *pb = eb + nn;
            double *es = base + (size_t)s * 2 * nn, *ps = es + nn;
            ks_mat_mul((int)un, ea, eb, es);
            ks_mat_mul((int)un, eb, pa, ps);
            for (size_t q = 0; q < nn; q++) {
                ps[q] += pb[q];
            }
        }
    }
    p->valid = 1;
    return KS_OK;
}

/* x <- E x + Phi u for the pair stored per component at m + offs[c]. */
static void apply(ks_fast_pk *p, const double *m, const size_t *offs, double *x, const double *u)
{
    for (int c = 0; c < p->ncomp; c++) {
        const int nc = p->comp_n[c];
        const size_t un = (size_t)nc;
        const int *idx = p->comp_idx[c];
        const double *e = m + offs[c], *phi = e + un * un;
        int has_u = 0;
        for (int q = 0; q < nc; q++) {
            p->xc[q] = x[idx[q]];
            p->uc[q] = u ? u[idx[q]] : 0.0;
            has_u |= p->uc[q] != 0.0;
        }
        /* only the structural nonzeros, in ascending column order (the terms left out are
         * exact zeros) */
        const int *pp = p->pptr[c], *pc = p->pcol;
        for (size_t i = 0; i < un; i++) {
            const double *er = e + i * un;
            double s = 0.0;
            for (int k = pp[i]; k < pp[i + 1]; k++) {
                s += er[pc[k]] * p->xc[pc[k]];
            }
            if (has_u) {
                const double *pr = phi + i * un;
                for (int k = pp[i]; k < pp[i + 1]; k++) {
                    s += pr[pc[k]] * p->uc[pc[k]];
                }
            }
            p->yc[i] = s;
        }
        for (int q = 0; q < nc; q++) {
            x[idx[q]] = p->yc[q];
        }
    }
}

/* x <- propagation over ladder size s. */
static void apply_ladder(ks_fast_pk *p, int s, double *x, const double *u)
{
    size_t offs[FPK_MAXN];
    for (int c = 0; c < p->ncomp; c++) {
        size_t nn = (size_t)p->comp_n[c] * (size_t)p->comp_n[c];
        offs[c] = p->comp_off[c] + (size_t)s * 2 * nn;
    }
    apply(p, p->ladder_buf, offs, x, u);
}

ks_status ks_fast_pk_advance(ks_ctx *ctx, ks_fast_pk *p, double *x, const double *u, double tau)
{
    if (!p->valid) {
        return ks_fail(ctx, KS_ERR_INTERNAL, "ks_fast_pk_advance: no system set");
    }
    if (!(tau > 0.0)) {
        if (tau == 0.0) {
            return KS_OK;
        }
        return ks_fail(ctx, KS_ERR_INTERNAL, "ks_fast_pk_advance: interval %g h", tau);
    }
    double k = nearbyint(tau / KS_FASTPK_QUANTUM_H);
    if (k >= 1.0 && k < 1e12 && fabs(tau - k * KS_FASTPK_QUANTUM_H) <= 1e-10) {
        long rem = (long)k;
        for (int s = KS_FASTPK_NSIZES - 1; s >= 0 && rem > 0; s--) {
            while (rem >= ladder[s]) {
                apply_ladder(p, s, x, u);
                rem -= ladder[s];
            }
        }
        return KS_OK;
    }
    /* off the grid: an exponential of its own (cached, least recently used evicted) */
    p->clock++;
    fpk_slot *hit = NULL, *victim = &p->slot[0];
    for (int s = 0; s < FPK_CACHE; s++) {
        if (p->slot[s].tau == tau) {
            hit = &p->slot[s];
            break;
        }
        if (isnan(p->slot[s].tau) || (!isnan(victim->tau) && p->slot[s].used < victim->used)) {
            victim = &p->slot[s];
        }
    }
    if (!hit) {
        hit = victim;
        hit->tau = NAN;
        for (int c = 0; c < p->ncomp; c++) {
            size_t nn = (size_t)p->comp_n[c] * (size_t)p->comp_n[c];
            double *e = hit->m + p->comp_off2[c];
            ks_status st = component_expm(ctx, p, c, tau, e, e + nn);
            if (st != KS_OK) {
                return st;
            }
        }
        hit->tau = tau;
    }
    hit->used = p->clock;
    apply(p, hit->m, p->comp_off2, x, u);
    return KS_OK;
}
