/*
 * Max pooling for inference: fp32, NHWC, no argmax indices (AVX-512 or AVX2, simd.h).
 *
 * Why it exists: PyTorch's CPU max pooling writes int64 argmax indices beside every
 * output even without autograd, three times the bytes of the output itself, and
 * pooling is bound by memory (BENCHMARKS.md, the winograd section, has the probe).
 *
 * Windows are clipped to the input, which is what PyTorch's implicit -inf padding and
 * ceil mode amount to (the caller computes the output size by PyTorch's rule, so no
 * window is empty). x and y are NHWC with pixel strides ldx and ldy: either may be a
 * channel slice of a wider channels_last tensor. A NaN in a window makes its output NaN,
 * as in PyTorch (max_nan).
 */
#include <math.h>
#include <omp.h>
#include "simd.h"

void max_pool_nhwc(const float *x, float *y, int n, int h, int w, int c, long ldx, long ldy,
                   int kh, int kw, int sh, int sw, int ph, int pw, int oh, int ow, int threads)
{
    long rows = (long)n * oh;
#pragma omp parallel for num_threads(threads) schedule(static)
    for (long r = 0; r < rows; ++r) {
        long b = r / oh;
        int oy = (int)(r % oh);
        int y0 = oy * sh - ph, y1 = y0 + kh;
        y0 = y0 < 0 ? 0 : y0;
        y1 = y1 > h ? h : y1;
        for (int ox = 0; ox < ow; ++ox) {
            int x0 = ox * sw - pw, x1 = x0 + kw;
            x0 = x0 < 0 ? 0 : x0;
            x1 = x1 > w ? w : x1;
            float *q = y + ((b * oh + oy) * (long)ow + ox) * ldy;
            for (int cb = 0; cb < c; cb += VW) {
                int left = c - cb;
                vmask mask = tail_mask(left < VW ? left : VW);
                vec m = V_SET1(-INFINITY);
                for (int yy = y0; yy < y1; ++yy)
                    for (int xx = x0; xx < x1; ++xx)
                        m = max_nan(m, v_load_part(
                            x + ((b * h + yy) * (long)w + xx) * ldx + cb, left, mask));
                v_store_part(q + cb, left, mask, m);
            }
        }
    }
}
