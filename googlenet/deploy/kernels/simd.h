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
#include <stdint.h>

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

/* bfloat16: the top half of a float's bits. Widening is exact (a shift); narrowing
 * rounds to nearest even, as PyTorch's float -> bfloat16 does, and turns a NaN into the
 * quiet NaN 0x7fc0 (rounding could carry a NaN's payload into the exponent). Plain
 * AVX-512F and AVX2 instructions, so the CPU needs no AVX512-BF16. */
#if defined(__AVX512F__)
static inline vec bf16_load(const uint16_t *p)
{
    __m512i w = _mm512_cvtepu16_epi32(_mm256_loadu_si256((const __m256i *)p));
    return _mm512_castsi512_ps(_mm512_slli_epi32(w, 16));
}
static inline void bf16_store(uint16_t *p, vec v)
{
    __m512i b = _mm512_castps_si512(v);
    __m512i lsb = _mm512_and_si512(_mm512_srli_epi32(b, 16), _mm512_set1_epi32(1));
    b = _mm512_srli_epi32(_mm512_add_epi32(b, _mm512_add_epi32(lsb, _mm512_set1_epi32(0x7fff))), 16);
    b = _mm512_mask_mov_epi32(b, _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q), _mm512_set1_epi32(0x7fc0));
    _mm256_storeu_si256((__m256i *)p, _mm512_cvtepi32_epi16(b));
}
#else
static inline vec bf16_load(const uint16_t *p)
{
    __m256i w = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)p));
    return _mm256_castsi256_ps(_mm256_slli_epi32(w, 16));
}
static inline void bf16_store(uint16_t *p, vec v)
{
    __m256i b = _mm256_castps_si256(v);
    __m256i lsb = _mm256_and_si256(_mm256_srli_epi32(b, 16), _mm256_set1_epi32(1));
    b = _mm256_srli_epi32(_mm256_add_epi32(b, _mm256_add_epi32(lsb, _mm256_set1_epi32(0x7fff))), 16);
    b = _mm256_castps_si256(_mm256_blendv_ps(_mm256_castsi256_ps(b),
                                             _mm256_castsi256_ps(_mm256_set1_epi32(0x7fc0)),
                                             _mm256_cmp_ps(v, v, _CMP_UNORD_Q)));
    /* packus works within 128-bit lanes: gather the two lanes' low quadwords. */
    __m256i packed = _mm256_permute4x64_epi64(_mm256_packus_epi32(b, b), 0x08);
    _mm_storeu_si128((__m128i *)p, _mm256_castsi256_si128(packed));
}
#endif

/* n values (n <= VW; a channel block's tail) of an fp32 or bf16 tensor, as floats: the
 * tail goes through a small buffer, the full block is a plain vector load or store. */
static inline vec load_any(const void *base, long at, int bf16, int n, vmask m)
{
    if (!bf16)
        return v_load_part((const float *)base + at, n, m);
    const uint16_t *p = (const uint16_t *)base + at;
    if (n >= VW)
        return bf16_load(p);
    uint16_t tail[VW] = {0};
    for (int i = 0; i < n; ++i)
        tail[i] = p[i];
    return bf16_load(tail);
}
static inline void store_any(void *base, long at, int bf16, int n, vmask m, vec v)
{
    if (!bf16) {
        v_store_part((float *)base + at, n, m, v);
        return;
    }
    uint16_t *p = (uint16_t *)base + at;
    if (n >= VW) {
        bf16_store(p, v);
        return;
    }
    uint16_t tail[VW];
    bf16_store(tail, v);
    for (int i = 0; i < n; ++i)
        p[i] = tail[i];
}

#define V_SCALE(a, s) V_MUL(a, V_SET1(s))
#define V_FMAS(a, s, c) V_FMA(a, V_SET1(s), c) /* a * s + c, s a float */
#endif
