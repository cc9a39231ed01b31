#include "BLASDirect.h"

#include <cblas.h>
#include <time.h>

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

double blas_direct_sgemm_gflops(int m, int n, int k, int threads, int repeats, int rounds,
                                const float *a, const float *b, float *c) {
    openblas_set_num_threads(threads);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1.0f, a, k, b, n, 0.0f, c, n);
    double best = 0.0;
    for (int r = 0; r < rounds; r++) {
        double start = now_seconds();
        for (int i = 0; i < repeats; i++) {
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1.0f, a, k, b, n, 0.0f,
                        c, n);
        }
        double seconds = now_seconds() - start;
        double gflops = 2.0 * m * n * (double)k * repeats / seconds * 1e-9;
        if (gflops > best) best = gflops;
    }
    openblas_set_num_threads(1);
    return best;
}

const char *blas_direct_corename(void) { return openblas_get_corename(); }
