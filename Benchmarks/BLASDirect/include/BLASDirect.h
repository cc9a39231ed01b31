// The B0 peer: SGEMM called straight through OpenBLAS's CBLAS from C, timed in C, so that
// `recur bench gemm` can put Recur's matmul beside it in one run.
#ifndef BLAS_DIRECT_H
#define BLAS_DIRECT_H

/// Best-of-`rounds` GFLOP/s of C[m,n] = A[m,k] · B[k,n] (row-major) with OpenBLAS using
/// `threads` threads; each round repeats the call `repeats` times. Restores OpenBLAS to one
/// thread before returning.
double blas_direct_sgemm_gflops(int m, int n, int k, int threads, int repeats, int rounds,
                                const float *a, const float *b, float *c);

/// The core name OpenBLAS reports.
const char *blas_direct_corename(void);

#endif
