// OpenBLAS's CBLAS interface plus the few OpenBLAS extensions Recur uses to pick the right
// kernel at run time (see RecurTensor/BLAS.swift and DESIGN.md, "OpenBLAS").
#include <cblas.h>

// DYNAMIC_ARCH builds export these; they re-run the core detection after OPENBLAS_CORETYPE changed.
void gotoblas_dynamic_init(void);
void gotoblas_dynamic_quit(void);
