/* What the Python loader asks a library before it runs any kernel. */
#include "simd.h"

#ifndef KERNELS_SOURCE_HASH
#define KERNELS_SOURCE_HASH "unknown"
#endif

/* Whether this CPU runs the instructions this library was compiled for. The loader has
 * checked the CPU's flags already; this is the library's own word on it. */
int kernels_cpu_supported(void)
{
    __builtin_cpu_init();
#if defined(__AVX512F__)
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("fma");
#else
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#endif
}

/* The SHA-256 of the sources it was built from (setup.py passes it in). */
const char *kernels_source_hash(void) { return KERNELS_SOURCE_HASH; }

/* Floats a vector, and tiles a register block of the Winograd products. */
int kernels_vector_width(void) { return VW; }
int winograd_rows(void) { return MR; }
