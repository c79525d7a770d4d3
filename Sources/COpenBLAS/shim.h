#pragma once
#include <cblas.h>
// OpenBLAS extension: set the number of threads BLAS uses (1 inside parallel particle loops).
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
