/*
 * Max pooling, NHWC, fp32 or bf16, without argmax indices (AVX-512 or AVX2, simd.h): the
 * forward for inference and training, and the training backward, which finds each
 * window's maximum again in the input instead of reading stored indices.
 *
 * Why it exists: PyTorch's CPU max pooling writes int64 argmax indices beside every
 * output even without autograd, four to eight times the bytes of the output itself
 * (fp32, bf16), and the backward reads them back; pooling is bound by memory
 * (BENCHMARKS.md, the winograd section and the training step's profile).
 *
 * Windows are clipped to the input, which is what PyTorch's implicit -inf padding and
 * ceil mode amount to (the caller computes the output size by PyTorch's rule, so no
 * window is empty). Tensors are NHWC with pixel strides ld*: any may be a channel slice
 * of a wider channels_last tensor. A NaN in a window makes its output NaN, as in PyTorch
 * (max_nan); the backward gives such a window's gradient to no input (PyTorch gives it
 * to the window's last NaN), and otherwise to the first maximum in the window, row by
 * row, as PyTorch does.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <omp.h>
#include "simd.h"

/* The window of output pixel (oy, ox), clipped to the input: rows [*y0, *y1), columns
 * [*x0, *x1). */
static inline void pool_window(int oy, int ox, int h, int w, int kh, int kw, int sh, int sw,
                               int ph, int pw, int *y0, int *y1, int *x0, int *x1)
{
    int a = oy * sh - ph, b = ox * sw - pw;
    *y0 = a < 0 ? 0 : a;
    *y1 = a + kh > h ? h : a + kh;
    *x0 = b < 0 ? 0 : b;
    *x1 = b + kw > w ? w : b + kw;
}

void max_pool_nhwc(const void *x, void *y, int n, int h, int w, int c, long ldx, long ldy,
                   int kh, int kw, int sh, int sw, int ph, int pw, int oh, int ow, int bf16,
                   int threads)
{
    long rows = (long)n * oh;
#pragma omp parallel for num_threads(threads) schedule(static)
    for (long r = 0; r < rows; ++r) {
        long b = r / oh;
        int oy = (int)(r % oh);
        for (int ox = 0; ox < ow; ++ox) {
            int y0, y1, x0, x1;
            pool_window(oy, ox, h, w, kh, kw, sh, sw, ph, pw, &y0, &y1, &x0, &x1);
            long out = ((b * oh + oy) * (long)ow + ox) * ldy;
            for (int cb = 0; cb < c; cb += VW) {
                int left = c - cb < VW ? c - cb : VW;
                vmask mask = tail_mask(left);
                vec m = V_SET1(-INFINITY);
                for (int yy = y0; yy < y1; ++yy)
                    for (int xx = x0; xx < x1; ++xx)
                        m = max_nan(m, load_any(x, ((b * h + yy) * (long)w + xx) * ldx + cb,
                                                bf16, left, mask));
                store_any(y, out + cb, bf16, left, mask, m);
            }
        }
    }
}

#if defined(__AVX512F__)
typedef __mmask16 vsel; /* lanes picked */
static inline vsel sel_none(void) { return 0; }
/* The lanes where v equals m and no earlier input of the window did; marks them taken. */
static inline vsel first_equal(vec v, vec m, vsel *taken)
{
    vsel e = _mm512_mask_cmp_ps_mask((vsel)~*taken, v, m, _CMP_EQ_OQ);
    *taken |= e;
    return e;
}
static inline vec add_where(vec acc, vsel e, vec g) { return _mm512_mask_add_ps(acc, e, acc, g); }
#else
typedef __m256 vsel;
static inline vsel sel_none(void) { return _mm256_setzero_ps(); }
static inline vsel first_equal(vec v, vec m, vsel *taken)
{
    vsel e = _mm256_andnot_ps(*taken, _mm256_cmp_ps(v, m, _CMP_EQ_OQ));
    *taken = _mm256_or_ps(*taken, e);
    return e;
}
static inline vec add_where(vec acc, vsel e, vec g) { return V_ADD(acc, _mm256_and_ps(e, g)); }
#endif

/* dx of max pooling from dy and the forward's input x (shapes and strides as in
 * max_pool_nhwc; dx is n x h x w x c, pixel stride lddx). Each thread adds one image's
 * gradient at a time into an fp32 buffer, so overlapping windows add in fp32 whatever
 * dx's type. Returns 0, or -1 if the buffers could not be allocated (dx unwritten). */
int max_pool_backward_nhwc(const void *x, const void *dy, void *dx, int n, int h, int w,
                           int c, long ldx, long lddy, long lddx, int kh, int kw, int sh,
                           int sw, int ph, int pw, int oh, int ow, int bf16, int threads)
{
    int failed = 0;
    size_t image = (size_t)h * w * c;
#pragma omp parallel num_threads(threads)
    {
        float *acc = malloc(image * sizeof(float));
        if (acc == NULL) {
#pragma omp atomic write
            failed = 1;
        }
#pragma omp barrier
        if (!failed) {
#pragma omp for schedule(static)
            for (long b = 0; b < n; ++b) {
                memset(acc, 0, image * sizeof(float));
                for (int oy = 0; oy < oh; ++oy)
                    for (int ox = 0; ox < ow; ++ox) {
                        int y0, y1, x0, x1;
                        pool_window(oy, ox, h, w, kh, kw, sh, sw, ph, pw, &y0, &y1, &x0, &x1);
                        long out = ((b * oh + oy) * (long)ow + ox) * lddy;
                        for (int cb = 0; cb < c; cb += VW) {
                            int left = c - cb < VW ? c - cb : VW;
                            vmask mask = tail_mask(left);
                            vec m = V_SET1(-INFINITY);
                            for (int yy = y0; yy < y1; ++yy)
                                for (int xx = x0; xx < x1; ++xx)
                                    m = max_nan(m, load_any(
                                        x, ((b * h + yy) * (long)w + xx) * ldx + cb, bf16,
                                        left, mask));
                            vec g = load_any(dy, out + cb, bf16, left, mask);
                            vsel taken = sel_none();
                            for (int yy = y0; yy < y1; ++yy)
                                for (int xx = x0; xx < x1; ++xx) {
                                    vec v = load_any(x, ((b * h + yy) * (long)w + xx) * ldx + cb,
                                                     bf16, left, mask);
                                    vsel e = first_equal(v, m, &taken);
                                    float *a = acc + ((long)yy * w + xx) * c + cb;
                                    v_store_part(a, left, mask,
                                                 add_where(v_load_part(a, left, mask), e, g));
                                }
                        }
                    }
                for (long p = 0; p < (long)h * w; ++p)
                    for (int cb = 0; cb < c; cb += VW) {
                        int left = c - cb < VW ? c - cb : VW;
                        vmask mask = tail_mask(left);
                        store_any(dx, (b * (long)h * w + p) * lddx + cb, bf16, left, mask,
                                  v_load_part(acc + p * c + cb, left, mask));
                    }
            }
        }
        free(acc);
    }
    return failed ? -1 : 0;
}
