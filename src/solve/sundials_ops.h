/*
 * sundials_ops.h -- compiled kernels for the operations CVODE performs on serial N_Vectors and
 * on compressed-sparse-column SUNMatrix objects.
 *
 * SUNDIALS lets a program supply the operations of a vector or matrix (the ops tables of
 * N_Vector and SUNMatrix; CVODE user guide v6.4, "Description of the NVECTOR module" and
 * "Description of the SUNMATRIX module"). The serial vector's and the sparse matrix's own
 * kernels live in the SUNDIALS library, which the Debian package (6.4.1) builds without
 * optimisation: in the reference path (48 states) they took about half of the time
 * (docs/BENCHMARK.md).
 *
 * ks_nvector_serial_fast_ops replaces the arithmetic operations of one serial vector with this
 * project's kernels. Clones (CVODE's work vectors) copy the ops table, so installing them on the
 * vector given to CVodeInit reaches every vector CVODE uses. Each kernel computes the same
 * expression in the same order as the serial implementation, including its special cases
 * (e.g. z = c (x + y) when a = b in z = a x + b y), so results are bitwise those of the library
 * kernels on any build without floating-point contraction (the project's flags).
 */
#ifndef KS_SUNDIALS_OPS_H
#define KS_SUNDIALS_OPS_H

#include <sundials/sundials_matrix.h>
#include <sundials/sundials_nvector.h>

/* v: a serial N_Vector (N_VNew_Serial). Returns 0, or -1 when v is not serial. */
int ks_nvector_serial_fast_ops(N_Vector v);

/* Replaces zero, copy and I + c A of one CSC SUNMatrix (SUNSparseMatrix) with compiled kernels:
 * the same values and structure as the library's; a copy into a matrix too small and I + c A
 * on a pattern without its full diagonal (both reallocate) are left to the library functions.
 * Its clones (CVODE's saved copy of the Jacobian) get them too. Returns 0, or -1 when A is not a
 * CSC sparse matrix. */
int ks_sunmatrix_sparse_fast_ops(SUNMatrix A);

#endif /* KS_SUNDIALS_OPS_H */
