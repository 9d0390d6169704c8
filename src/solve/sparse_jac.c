/*
 * sparse_jac.c -- probed Jacobian pattern, grouped forward differences and block-triangular LU
 * (sparse_jac.h).
 */
#include "solve/sparse_jac.h"

#include "solve/expm.h"

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

void ks_spj_probe(int n, const double *z, ks_spj_fn fn, void *user, double *zw, double *f0,
                  double *f1, unsigned char *pat)
{
    const size_t un = (size_t)n;
    fn(z, f0, user);
    memcpy(zw, z, un * sizeof(double));
    for (size_t j = 0; j < un; j++) {
        const double inc = 1e-4 * fmax(fabs(z[j]), 1.0);
        for (int sgn = -1; sgn <= 1; sgn += 2) {
            zw[j] = z[j] + (double)sgn * inc;
            fn(zw, f1, user);
            for (size_t i = 0; i < un; i++) {
                if (f1[i] != f0[i]) {
                    pat[i * un + j] = 1;
                }
            }
        }
        zw[j] = z[j];
    }
}

/* Tarjan's strongly connected components (SIAM J Comput 1:146, 1972) of the graph i -> j when
 * f_i depends on z_j. A component is emitted after every component reachable from it, i.e.
 * after everything it depends on: the solve order of the block lower-triangular form. */
typedef struct {
    const ks_spj *s;
    const unsigned char *pat;
    int n, counter, sp;
    int index[KS_SPJ_MAXN], low[KS_SPJ_MAXN], on_stack[KS_SPJ_MAXN], stack[KS_SPJ_MAXN];
    int nblock, nout;
    int bptr[KS_SPJ_MAXN + 1], bidx[KS_SPJ_MAXN];
} tarjan;

static void strongconnect(tarjan *t, int v)
{
    t->index[v] = t->low[v] = t->counter++;
    t->stack[t->sp++] = v;
    t->on_stack[v] = 1;
    for (int w = 0; w < t->n; w++) {
        if (w == v || !t->pat[(size_t)v * (size_t)t->n + (size_t)w]) {
            continue;
        }
        if (t->index[w] < 0) {
            strongconnect(t, w);
            t->low[v] = t->low[v] < t->low[w] ? t->low[v] : t->low[w];
        } else if (t->on_stack[w]) {
            t->low[v] = t->low[v] < t->index[w] ? t->low[v] : t->index[w];
        }
    }
    if (t->low[v] == t->index[v]) {
        t->bptr[t->nblock] = t->nout;
        int w;
        do {
            w = t->stack[--t->sp];
            t->on_stack[w] = 0;
            t->bidx[t->nout++] = w;
        } while (w != v);
        t->nblock++;
        t->bptr[t->nblock] = t->nout;
    }
}

int ks_spj_build(ks_spj *s, int n, const unsigned char *pat)
{
    if (n < 1 || n > KS_SPJ_MAXN) {
        return -1;
    }
    const size_t un = (size_t)n;
    memset(s, 0, sizeof *s);
    s->n = n;
    /* compressed columns, the diagonal included */
    int k = 0;
    for (size_t j = 0; j < un; j++) {
        s->colptr[j] = k;
        for (size_t i = 0; i < un; i++) {
            if (i == j || pat[i * un + j]) {
                s->rowind[k++] = (int)i;
            }
        }
    }
    s->colptr[n] = k;
    s->nnz = k;
    /* column groups: largest column first (ties by index), first group without a conflict */
    int order[KS_SPJ_MAXN];
    for (int j = 0; j < n; j++) {
        order[j] = j;
    }
    for (int a = 1; a < n; a++) { /* insertion sort: stable, n <= 64 */
        int v = order[a], b = a;
        int cv = s->colptr[v + 1] - s->colptr[v];
        while (b > 0) {
            int u = order[b - 1];
            int cu = s->colptr[u + 1] - s->colptr[u];
            if (cu >= cv) {
                break;
            }
            order[b] = u;
            b--;
        }
        order[b] = v;
    }
    uint64_t rows_used[KS_SPJ_MAXN];
    int group_of[KS_SPJ_MAXN], ngroup = 0;
    for (int a = 0; a < n; a++) {
        const int j = order[a];
        uint64_t rows = 0;
        for (int q = s->colptr[j]; q < s->colptr[j + 1]; q++) {
            rows |= (uint64_t)1 << s->rowind[q];
        }
        int g = 0;
        while (g < ngroup && (rows_used[g] & rows) != 0) {
            g++;
        }
        if (g == ngroup) {
            rows_used[ngroup++] = 0;
        }
        rows_used[g] |= rows;
        group_of[j] = g;
    }
    s->ngroup = ngroup;
    int pos = 0;
    for (int g = 0; g < ngroup; g++) {
        s->gptr[g] = pos;
        for (int j = 0; j < n; j++) {
            if (group_of[j] == g) {
                s->gcol[pos++] = j;
            }
        }
    }
    s->gptr[ngroup] = pos;
    /* block triangular form */
    static const tarjan zero_t;
    tarjan t = zero_t;
    t.s = s;
    t.pat = pat;
    t.n = n;
    for (int v = 0; v < n; v++) {
        t.index[v] = -1;
    }
    for (int v = 0; v < n; v++) {
        if (t.index[v] < 0) {
            strongconnect(&t, v);
        }
    }
    s->nblock = t.nblock;
    memcpy(s->bptr, t.bptr, sizeof s->bptr);
    memcpy(s->bidx, t.bidx, sizeof s->bidx);
    int block_of[KS_SPJ_MAXN], local[KS_SPJ_MAXN];
    int doff = 0;
    for (int b = 0; b < s->nblock; b++) {
        const int nb = s->bptr[b + 1] - s->bptr[b];
        s->doff[b] = doff;
        doff += nb * nb;
        for (int q = 0; q < nb; q++) {
            block_of[s->bidx[s->bptr[b] + q]] = b;
            local[s->bidx[s->bptr[b] + q]] = q;
        }
    }
    s->doff[s->nblock] = doff;
    /* entries inside the diagonal blocks (dense row-major position) and outside them (by the
     * block of their row in solve order, then by row) */
    s->ndiag = 0;
    int noff = 0;
    for (int b = 0; b < s->nblock; b++) {
        const int nb = s->bptr[b + 1] - s->bptr[b];
        s->offptr[b] = noff;
        for (int r = 0; r < nb; r++) {
            const int i = s->bidx[s->bptr[b] + r];
            for (int j = 0; j < n; j++) {
                for (int q = s->colptr[j]; q < s->colptr[j + 1]; q++) {
                    if (s->rowind[q] != i) {
                        continue;
                    }
                    if (block_of[j] == b) {
                        s->dk[s->ndiag] = q;
                        s->dpos[s->ndiag] = s->doff[b] + r * nb + local[j];
                        s->ndiag++;
                    } else {
                        s->offk[noff] = q;
                        s->offloc[noff] = r;
                        s->offcol[noff] = j;
                        noff++;
                    }
                }
            }
        }
    }
    s->offptr[s->nblock] = noff;
    return 0;
}

int ks_spj_jacobian(const ks_spj *s, const double *z, const double *f0, ks_spj_fn fn, void *user,
                    double *zw, double *fw, double *jval)
{
    const double srur = sqrt(DBL_EPSILON);
    double inc[KS_SPJ_MAXN];
    memcpy(zw, z, (size_t)s->n * sizeof(double));
    for (int g = 0; g < s->ngroup; g++) {
        for (int p = s->gptr[g]; p < s->gptr[g + 1]; p++) {
            const int j = s->gcol[p];
            double h = srur * fmax(fabs(z[j]), 1.0);
            volatile double zj = z[j] + h; /* the increment actually represented */
            inc[j] = zj - z[j];
            zw[j] = zj;
        }
        fn(zw, fw, user);
        for (int p = s->gptr[g]; p < s->gptr[g + 1]; p++) {
            const int j = s->gcol[p];
            zw[j] = z[j];
            for (int q = s->colptr[j]; q < s->colptr[j + 1]; q++) {
                const int i = s->rowind[q];
                jval[q] = (fw[i] - f0[i]) / inc[j];
            }
        }
    }
    return s->ngroup;
}

void ks_spj_to_dense(const ks_spj *s, const double *jval, double *jac_colmajor)
{
    const size_t un = (size_t)s->n;
    memset(jac_colmajor, 0, un * un * sizeof(double));
    for (size_t j = 0; j < un; j++) {
        for (int q = s->colptr[j]; q < s->colptr[j + 1]; q++) {
            jac_colmajor[j * un + (size_t)s->rowind[q]] = jval[q];
        }
    }
}

int ks_spj_factor(const ks_spj *s, const double *jval, double d, ks_spj_lu *lu)
{
    memset(lu->blk, 0, (size_t)s->doff[s->nblock] * sizeof(double));
    for (int b = 0; b < s->nblock; b++) {
        const int nb = s->bptr[b + 1] - s->bptr[b];
        for (int q = 0; q < nb; q++) {
            lu->blk[s->doff[b] + q * nb + q] = d;
        }
    }
    for (int e = 0; e < s->ndiag; e++) {
        lu->blk[s->dpos[e]] -= jval[s->dk[e]];
    }
    for (int e = 0; e < s->offptr[s->nblock]; e++) {
        lu->offval[e] = jval[s->offk[e]];
    }
    for (int b = 0; b < s->nblock; b++) {
        const int nb = s->bptr[b + 1] - s->bptr[b];
        double *a = lu->blk + s->doff[b];
        if (nb == 1) {
            if (a[0] == 0.0 || !isfinite(a[0])) {
                return b + 1;
            }
            a[0] = 1.0 / a[0];
        } else {
            if (ks_lu_factor(nb, a, lu->piv + s->bptr[b]) != 0) {
                return b + 1;
            }
            for (int q = 0; q < nb; q++) {
                lu->dinv[s->bptr[b] + q] = 1.0 / a[q * nb + q];
            }
        }
    }
    return 0;
}

void ks_spj_solve(const ks_spj *s, const ks_spj_lu *lu, double *x)
{
    double r[KS_SPJ_MAXN];
    const int *offloc = s->offloc, *offcol = s->offcol;
    const double *offval = lu->offval;
    for (int b = 0; b < s->nblock; b++) {
        /* (M x)_i = b_i with M_ij = -J_ij outside the block: x_B = M_BB^{-1} (b_B + J_Bj x_j),
         * the x_j of earlier blocks being final */
        const int p0 = s->bptr[b], nb = s->bptr[b + 1] - p0;
        const int *idx = s->bidx + p0;
        const double *a = lu->blk + s->doff[b];
        const int e0 = s->offptr[b], e1 = s->offptr[b + 1];
        if (nb == 1) {
            double acc = x[idx[0]];
            for (int e = e0; e < e1; e++) {
                acc += offval[e] * x[offcol[e]];
            }
            x[idx[0]] = acc * a[0];
            continue;
        }
        /* the entries outside the block come by row (offloc ascending): each row's sum in a
         * register, added in the same order as entry by entry */
        for (int q = 0, e = e0; q < nb; q++) {
            double acc = x[idx[q]];
            for (; e < e1 && offloc[e] == q; e++) {
                acc += offval[e] * x[offcol[e]];
            }
            r[q] = acc;
        }
        /* dense block: row interchanges, unit lower L, then U (the factors of ks_lu_factor) */
        const int *piv = lu->piv + p0;
        for (int q = 0; q < nb; q++) {
            double t = r[q];
            r[q] = r[piv[q]];
            r[piv[q]] = t;
        }
        for (int i = 1; i < nb; i++) {
            const double *ai = a + i * nb;
            double acc = r[i];
            for (int k = 0; k < i; k++) {
                acc -= ai[k] * r[k];
            }
            r[i] = acc;
        }
        const double *dinv = lu->dinv + p0;
        for (int i = nb - 1; i >= 0; i--) {
            const double *ai = a + i * nb;
            double acc = r[i];
            for (int k = i + 1; k < nb; k++) {
                acc -= ai[k] * r[k];
            }
            r[i] = acc * dinv[i]; /* a multiplication off the critical path's divisions */
        }
        for (int q = 0; q < nb; q++) {
            x[idx[q]] = r[q];
        }
    }
}
