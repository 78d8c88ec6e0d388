/*
 * The vector operations the kernels are written in, for the instruction set the file is
 * compiled for: AVX-512 (16 floats a vector) or AVX2 + FMA (8). setup.py compiles the
 * kernels once per set (avx512.c, avx2.c) and googlenet/deploy/native.py loads the one
 * this CPU runs.
 *
 * x86's max instructions return their second operand when either is NaN. v_relu() puts
 * the value second so that a NaN stays NaN, as torch.relu keeps it; max_nan() also
 * keeps a NaN that is already in the running maximum, as PyTorch's max pooling does.
 */
#ifndef GOOGLENET_SIMD_H
#define GOOGLENET_SIMD_H
#include <immintrin.h>

#if defined(__AVX512F__)
typedef __m512 vec;
typedef __mmask16 vmask;
#define VW 16
#define MR 8 /* rows of the products' register block: 8 x 2 vectors of 32 registers */
#define V_ADD _mm512_add_ps
#define V_SUB _mm512_sub_ps
#define V_MUL _mm512_mul_ps
#define V_FMA _mm512_fmadd_ps /* a * b + c */
#define V_SET1 _mm512_set1_ps
#define V_ZERO _mm512_setzero_ps
#define V_LOAD _mm512_loadu_ps
#define V_STORE _mm512_storeu_ps
static inline vmask tail_mask(int n) { return (vmask)((1u << n) - 1); } /* n <= 16 */
static inline vec v_load_mask(const float *p, vmask m) { return _mm512_maskz_loadu_ps(m, p); }
static inline void v_store_mask(float *p, vmask m, vec v) { _mm512_mask_storeu_ps(p, m, v); }
static inline vec v_relu(vec v) { return _mm512_max_ps(_mm512_setzero_ps(), v); }
static inline vec max_nan(vec m, vec x)
{
    return _mm512_mask_mov_ps(_mm512_max_ps(x, m), _mm512_cmp_ps_mask(x, x, _CMP_UNORD_Q), x);
}
#elif defined(__AVX2__) && defined(__FMA__)
typedef __m256 vec;
typedef __m256i vmask;
#define VW 8
#define MR 6 /* 6 x 2 accumulators, 2 loaded and 1 broadcast: 15 of 16 registers */
#define V_ADD _mm256_add_ps
#define V_SUB _mm256_sub_ps
#define V_MUL _mm256_mul_ps
#define V_FMA _mm256_fmadd_ps
#define V_SET1 _mm256_set1_ps
#define V_ZERO _mm256_setzero_ps
#define V_LOAD _mm256_loadu_ps
#define V_STORE _mm256_storeu_ps
static inline vmask tail_mask(int n)
{
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}
static inline vec v_load_mask(const float *p, vmask m) { return _mm256_maskload_ps(p, m); }
static inline void v_store_mask(float *p, vmask m, vec v) { _mm256_maskstore_ps(p, m, v); }
static inline vec v_relu(vec v) { return _mm256_max_ps(_mm256_setzero_ps(), v); }
static inline vec max_nan(vec m, vec x)
{
    return _mm256_blendv_ps(_mm256_max_ps(x, m), x, _mm256_cmp_ps(x, x, _CMP_UNORD_Q));
}
#else
#error "compile the kernels with -mavx512f -mfma or -mavx2 -mfma (setup.py does)"
#endif

/* n floats at p (the rest of a channel block: all VW of them, or a tail under mask m).
 * The full case takes plain loads and stores: AVX2's masked store (vmaskmovps) is
 * microcoded on AMD's Zen cores (Agner Fog's instruction tables), and the tail is the
 * rare case. */
static inline vec v_load_part(const float *p, int n, vmask m)
{
    return n >= VW ? V_LOAD(p) : v_load_mask(p, m);
}
static inline void v_store_part(float *p, int n, vmask m, vec v)
{
    if (n >= VW)
        V_STORE(p, v);
    else
        v_store_mask(p, m, v);
}

#define V_SCALE(a, s) V_MUL(a, V_SET1(s))
#define V_FMAS(a, s, c) V_FMA(a, V_SET1(s), c) /* a * s + c, s a float */
#endif
