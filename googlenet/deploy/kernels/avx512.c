/* The kernels built for AVX-512 (setup.py compiles this file with -mavx512f -mfma). */
#ifndef __AVX512F__
#error "avx512.c needs -mavx512f"
#endif
#include "cpu.c"
#include "max_pool.c"
#include "bn_relu.c"
#include "winograd_f43.c"
