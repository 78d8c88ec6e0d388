/*
 * Batch norm + ReLU for training, fused: NHWC, fp32 or bf16 storage, fp32 arithmetic and
 * double sums (AVX-512 or AVX2, simd.h).
 *
 * Why it exists: in training PyTorch runs BN and ReLU as two memory-bound ops, and the
 * backward of each reads what the other wrote. Fused, the normalised value before the
 * ReLU is never stored: the forward reads x twice (statistics, then y = relu(a x + b))
 * and writes y; the backward recomputes the ReLU's mask from x and reads x and dy twice
 * (two sums per channel, then dx), writing dx. That is 8 passes over a tensor of the
 * layer's size against the 13 of the two ops (docs/native.md).
 *
 * Tensors are "rows" of c channels, one per pixel (NHWC), rows ld* elements apart: a
 * channels_last batch is rows = n*h*w. Each pass splits the rows evenly across `threads`
 * OpenMP threads; the sums are added per thread in double and then together, and the
 * per-channel coefficients are computed here too, so that a layer is one call each way
 * (a few small PyTorch ops per layer cost as much as a pass over a small map).
 *
 * The sums run four rows at a time into separate registers: one chain of dependent adds
 * would wait for each add's latency and run at a fraction of the memory's speed.
 */
#include <math.h>
#include <stdlib.h>
#include <omp.h>
#include "simd.h"

#define BN_TILE 64 /* rows summed in fp32 registers before the sums go to double */

#if defined(__AVX512F__)
/* g where z > 0, else 0 (a NaN z gives 0, as ReLU's gradient at NaN does in PyTorch). */
static inline vec keep_positive(vec z, vec g)
{
    return _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(z, _mm512_setzero_ps(), _CMP_GT_OQ), g);
}
#else
static inline vec keep_positive(vec z, vec g)
{
    return _mm256_and_ps(_mm256_cmp_ps(z, _mm256_setzero_ps(), _CMP_GT_OQ), g);
}
#endif

/* This thread's share [*r0, *r1) of `rows`. */
static void thread_rows(long rows, long *r0, long *r1)
{
    long t = omp_get_thread_num(), nt = omp_get_num_threads();
    long per = (rows + nt - 1) / nt;
    *r0 = t * per < rows ? t * per : rows;
    *r1 = *r0 + per < rows ? *r0 + per : rows;
}

/* Adds the n valid lanes of a and b to the doubles at sa and sb. */
static inline void add_lanes(double *sa, double *sb, vec a, vec b, int n)
{
    float la[VW], lb[VW];
    V_STORE(la, a);
    V_STORE(lb, b);
    for (int i = 0; i < n; ++i) {
        sa[i] += la[i];
        sb[i] += lb[i];
    }
}

#define ALWAYS_INLINE static inline __attribute__((always_inline))

/* Adds row r's channel block to the sums s and q: x and x*x (grad 0), or g and
 * g*(x - mean) (grad 1, g = dy where a x + b > 0). */
ALWAYS_INLINE void sum_row(const void *x, const void *dy, long r, long ldx, long lddy, int cb,
                           const int bf16, const int grad, int left, vmask m, vec a, vec b,
                           vec mu, vec *s, vec *q)
{
    vec v = load_any(x, r * ldx + cb, bf16, left, m);
    if (grad) {
        vec g = keep_positive(V_FMA(v, a, b), load_any(dy, r * lddy + cb, bf16, left, m));
        *s = V_ADD(*s, g);
        *q = V_FMA(g, V_SUB(v, mu), *q);
    } else {
        *s = V_ADD(*s, v);
        *q = V_FMA(v, v, *q);
    }
}

/* The per-channel sums (see sum_row) of rows [r0, r1) into local[0..c) and local[c..2c).
 * Inlined with constant bf16 and grad, so each use compiles to its own loop. */
ALWAYS_INLINE void row_sums(const void *x, const void *dy, long r0, long r1, int c, long ldx,
                            long lddy, const int bf16, const int grad, const float *scale,
                            const float *shift, const float *mean, double *local)
{
    for (long t0 = r0; t0 < r1; t0 += BN_TILE) {
        long t1 = t0 + BN_TILE < r1 ? t0 + BN_TILE : r1;
        for (int cb = 0; cb < c; cb += VW) {
            int left = c - cb < VW ? c - cb : VW;
            vmask m = tail_mask(left);
            vec a = V_ZERO(), b = V_ZERO(), mu = V_ZERO();
            if (grad) {
                a = v_load_part(scale + cb, left, m);
                b = v_load_part(shift + cb, left, m);
                mu = v_load_part(mean + cb, left, m);
            }
            vec s0 = V_ZERO(), s1 = V_ZERO(), s2 = V_ZERO(), s3 = V_ZERO();
            vec q0 = V_ZERO(), q1 = V_ZERO(), q2 = V_ZERO(), q3 = V_ZERO();
            long r = t0;
            for (; r + 4 <= t1; r += 4) {
                sum_row(x, dy, r, ldx, lddy, cb, bf16, grad, left, m, a, b, mu, &s0, &q0);
                sum_row(x, dy, r + 1, ldx, lddy, cb, bf16, grad, left, m, a, b, mu, &s1, &q1);
                sum_row(x, dy, r + 2, ldx, lddy, cb, bf16, grad, left, m, a, b, mu, &s2, &q2);
                sum_row(x, dy, r + 3, ldx, lddy, cb, bf16, grad, left, m, a, b, mu, &s3, &q3);
            }
            for (; r < t1; ++r)
                sum_row(x, dy, r, ldx, lddy, cb, bf16, grad, left, m, a, b, mu, &s0, &q0);
            add_lanes(local + cb, local + c + cb, V_ADD(V_ADD(s0, s1), V_ADD(s2, s3)),
                      V_ADD(V_ADD(q0, q1), V_ADD(q2, q3)), left);
        }
    }
}

/* y = relu(a x + b) (grad 0), or dx = a g + kx x + k0 (grad 1), over rows [r0, r1). */
ALWAYS_INLINE void row_apply(const void *x, const void *dy, void *out, long r0, long r1, int c,
                             long ldx, long lddy, long ldo, const int bf16, const int grad,
                             const float *scale, const float *shift, const float *kx,
                             const float *k0)
{
    for (long r = r0; r < r1; ++r)
        for (int cb = 0; cb < c; cb += VW) {
            int left = c - cb < VW ? c - cb : VW;
            vmask m = tail_mask(left);
            vec a = v_load_part(scale + cb, left, m), b = v_load_part(shift + cb, left, m);
            vec v = load_any(x, r * ldx + cb, bf16, left, m);
            vec z = V_FMA(v, a, b), o;
            if (grad) {
                vec g = keep_positive(z, load_any(dy, r * lddy + cb, bf16, left, m));
                o = V_FMA(g, a, V_FMA(v, v_load_part(kx + cb, left, m),
                                      v_load_part(k0 + cb, left, m)));
            } else {
                o = v_relu(z);
            }
            store_any(out, r * ldo + cb, bf16, left, m, o);
        }
}

/* One pass of sums then one of outputs, in one parallel region: the sums are added into
 * `total`, and `coefficients` (run once, by one thread, between the passes) turns them
 * into what the second pass reads in coef: scale, shift, mean, then (grad) kx and k0,
 * c floats each. */
typedef void (*coefficients_fn)(const double *total, long rows, int c, void *arg);

static int sums_then_apply(const void *x, const void *dy, void *out, long rows, int c, long ldx,
                           long lddy, long ldo, int bf16, int grad, float *coef,
                           coefficients_fn coefficients, void *arg, int threads)
{
    double *total = calloc(2 * (size_t)c, sizeof(double));
    if (total == NULL)
        return -1;
    int failed = 0;
    const float *scale = coef, *shift = coef + c, *mean = coef + 2 * c;
    const float *kx = grad ? coef + 3 * c : NULL, *k0 = grad ? coef + 4 * c : NULL;
#pragma omp parallel num_threads(threads)
    {
        long r0, r1;
        thread_rows(rows, &r0, &r1);
        double *local = calloc(2 * (size_t)c, sizeof(double));
        if (local == NULL) {
#pragma omp atomic write
            failed = 1;
        } else {
            if (bf16 && grad)
                row_sums(x, dy, r0, r1, c, ldx, lddy, 1, 1, scale, shift, mean, local);
            else if (grad)
                row_sums(x, dy, r0, r1, c, ldx, lddy, 0, 1, scale, shift, mean, local);
            else if (bf16)
                row_sums(x, dy, r0, r1, c, ldx, lddy, 1, 0, scale, shift, mean, local);
            else
                row_sums(x, dy, r0, r1, c, ldx, lddy, 0, 0, scale, shift, mean, local);
#pragma omp critical
            for (int ch = 0; ch < 2 * c; ++ch)
                total[ch] += local[ch];
            free(local);
        }
#pragma omp barrier
#pragma omp single
        if (!failed)
            coefficients(total, rows, c, arg);
        /* the single's implied barrier: every thread sees the coefficients */
        if (!failed) {
            if (bf16 && grad)
                row_apply(x, dy, out, r0, r1, c, ldx, lddy, ldo, 1, 1, scale, shift, kx, k0);
            else if (grad)
                row_apply(x, dy, out, r0, r1, c, ldx, lddy, ldo, 0, 1, scale, shift, kx, k0);
            else if (bf16)
                row_apply(x, dy, out, r0, r1, c, ldx, lddy, ldo, 1, 0, scale, shift, kx, k0);
            else
                row_apply(x, dy, out, r0, r1, c, ldx, lddy, ldo, 0, 0, scale, shift, kx, k0);
        }
    }
    free(total);
    return failed ? -1 : 0;
}

struct forward_arg {
    const float *weight, *bias;
    float eps, factor;
    float *running_mean, *running_var, *coef, *invstd;
};

/* Batch statistics (biased variance) -> scale = weight / sqrt(var + eps), shift =
 * bias - mean * scale; the running statistics move by `factor` (none if it is <= 0),
 * the variance unbiased, as nn.BatchNorm2d does. */
static void forward_coefficients(const double *total, long rows, int c, void *p)
{
    struct forward_arg *arg = p;
    for (int ch = 0; ch < c; ++ch) {
        double mean = total[ch] / rows;
        double var = total[c + ch] / rows - mean * mean;
        var = var > 0.0 ? var : 0.0;
        double invstd = 1.0 / sqrt(var + arg->eps);
        double scale = arg->weight[ch] * invstd;
        arg->coef[ch] = (float)scale;
        arg->coef[c + ch] = (float)(arg->bias[ch] - mean * scale);
        arg->coef[2 * c + ch] = (float)mean;
        arg->invstd[ch] = (float)invstd;
        if (arg->factor > 0.0f) {
            double f = arg->factor, unbiased = rows > 1 ? var * rows / (rows - 1) : var;
            arg->running_mean[ch] = (float)((1.0 - f) * arg->running_mean[ch] + f * mean);
            arg->running_var[ch] = (float)((1.0 - f) * arg->running_var[ch] + f * unbiased);
        }
    }
}

/* y = relu(batch_norm(x)) with the batch's statistics. saved (4c floats) receives scale,
 * shift, mean and 1/sqrt(var + eps) per channel, for bn_relu_backward; the running
 * statistics move by factor (pass 0 to leave them). Returns 0, or -1 if memory for the
 * sums could not be had (y unwritten). */
int bn_relu_forward(const void *x, void *y, long rows, int c, long ldx, long ldy, int bf16,
                    const float *weight, const float *bias, float eps, float factor,
                    float *running_mean, float *running_var, float *saved, int threads)
{
    struct forward_arg arg = {weight, bias, eps, factor, running_mean, running_var, saved,
                              saved + 3 * c};
    return sums_then_apply(x, NULL, y, rows, c, ldx, 0, ldy, bf16, 0, saved,
                           forward_coefficients, &arg, threads);
}

struct backward_arg {
    const float *saved;
    float *coef, *dweight, *dbias;
};

/* dx = scale * (g - mean(g) - xhat * mean(g * xhat)), xhat = (x - mean) * invstd, folded
 * into scale * g + kx * x + k0; dweight = sum(g * xhat), dbias = sum(g). */
static void backward_coefficients(const double *total, long rows, int c, void *p)
{
    struct backward_arg *arg = p;
    const float *saved = arg->saved;
    for (int ch = 0; ch < c; ++ch) {
        double scale = saved[ch], mean = saved[2 * c + ch], invstd = saved[3 * c + ch];
        double g = total[ch], gx = total[c + ch];
        double kx = -scale * invstd * invstd * gx / rows;
        arg->coef[3 * c + ch] = (float)kx;
        arg->coef[4 * c + ch] = (float)(-scale * g / rows - kx * mean);
        arg->dweight[ch] = (float)(gx * invstd);
        arg->dbias[ch] = (float)g;
    }
}

/* The gradients of bn_relu_forward from dy and its saved x and `saved`. Returns 0, or -1
 * as bn_relu_forward (nothing written). */
int bn_relu_backward(const void *x, const void *dy, void *dx, long rows, int c, long ldx,
                     long lddy, long lddx, int bf16, const float *saved, float *dweight,
                     float *dbias, int threads)
{
    float *coef = malloc(5 * (size_t)c * sizeof(float));
    if (coef == NULL)
        return -1;
    for (int i = 0; i < 3 * c; ++i)
        coef[i] = saved[i];
    struct backward_arg arg = {saved, coef, dweight, dbias};
    int status = sums_then_apply(x, dy, dx, rows, c, ldx, lddy, lddx, bf16, 1, coef,
                                 backward_coefficients, &arg, threads);
    free(coef);
    return status;
}
