/* The kernels built for AVX2 + FMA (setup.py compiles this file with -mavx2 -mfma). */
#if !defined(__AVX2__) || !defined(__FMA__) || defined(__AVX512F__)
#error "avx2.c needs -mavx2 -mfma and no AVX-512"
#endif
#include "cpu.c"
#include "max_pool.c"
#include "bn_relu.c"
#include "winograd_f43.c"
