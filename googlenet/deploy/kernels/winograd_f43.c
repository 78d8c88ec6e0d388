/*
 * Winograd F(4x4, 3x3) convolution for the CPU: fp32, NHWC, AVX-512 or AVX2 (simd.h).
 *
 * Why it exists: two thirds of googlenet_bn's multiply-adds are 3x3 stride-1
 * convolutions, and oneDNN runs them as direct convolutions. Winograd's F(4x4, 3x3)
 * computes a 4x4 output tile from a 6x6 input tile with 36 multiplies per (input,
 * output) channel pair instead of 144. The 36 products become 36 small matrix
 * products (tiles x C times C x K), which this file runs with its own register-blocked
 * kernel so that a block of tiles goes through input transform, products and output
 * transform while it is still in cache. (Handing the products to a batched sgemm
 * instead was slower than the direct convolution, and the intermediate tensors went
 * through memory: BENCHMARKS.md, the winograd section.)
 *
 * The transforms are Lavin & Gray's (2015) for the points 0, 1, -1, 2, -2 and
 * infinity. tests/deploy/test_winograd.py bounds the rounding error against a direct
 * convolution. A NaN reaching the fused ReLU stays NaN (v_relu() in simd.h).
 *
 * Layouts: input x is NHWC with pixel stride ldx and output y NHWC with pixel stride
 * ldy (>= C and >= K: either may be a channel slice of a wider channels_last tensor,
 * such as one branch of a merged 1x1 convolution's output); weights are
 * pre-transformed to U[36][C][K] by the caller. K must be a multiple of 16; C may
 * be anything.
 */
#include <omp.h>
#include "simd.h"

typedef vec v16; /* one vector: 16 floats (AVX-512) or 8 (AVX2); the name is historical */
#define ADD V_ADD
#define SUB V_SUB
#define SCALE V_SCALE
#define FMA V_FMAS
#define TILE 4  /* output tile */
#define ALPHA 6 /* input tile */
/* MR, the tiles per register block of the products, comes from simd.h */
/* Floats between the 36 matrices of a block, beyond their size: with TB * K a multiple
 * of 1024 (K = 320, TB = 16) the output transform's 36 loads all fell in one L1 cache
 * set, and that layer ran far slower than its neighbours. */
#define SKEW 16

/* B^T a, for 6 vectors a. */
static inline void input_1d(const v16 *a, v16 *r)
{
    r[0] = ADD(FMA(a[0], 4.f, SCALE(a[2], -5.f)), a[4]);
    r[1] = ADD(FMA(ADD(a[1], a[2]), -4.f, a[3]), a[4]);
    r[2] = ADD(SCALE(SUB(a[1], a[2]), 4.f), SUB(a[4], a[3]));
    r[3] = SUB(FMA(SUB(a[3], a[1]), 2.f, a[4]), a[2]);
    r[4] = SUB(FMA(SUB(a[1], a[3]), 2.f, a[4]), a[2]);
    r[5] = ADD(FMA(a[1], 4.f, SCALE(a[3], -5.f)), a[5]);
}

/* A^T m, for 6 vectors m. */
static inline void output_1d(const v16 *m, v16 *o)
{
    v16 s12 = ADD(m[1], m[2]), d12 = SUB(m[1], m[2]);
    v16 s34 = ADD(m[3], m[4]), d34 = SUB(m[3], m[4]);
    o[0] = ADD(ADD(m[0], s12), s34);
    o[1] = FMA(d34, 2.f, d12);
    o[2] = FMA(s34, 4.f, s12);
    o[3] = ADD(FMA(d34, 8.f, d12), m[5]);
}

typedef struct {
    int h, w, c, k, oh, ow, pad, tiles_w;
    long ldx, vs, ms; /* input pixel stride; V's and M's matrix strides */
    long tiles_per_image;
} shape_t;

static inline void tile_origin(const shape_t *s, long t, long *n, int *ty, int *tx)
{
    long r = t % s->tiles_per_image;
    *n = t / s->tiles_per_image;
    *ty = (int)(r / s->tiles_w);
    *tx = (int)(r % s->tiles_w);
}

/* V[e][i][c] = (B^T d B)[e] for the nt tiles from t0; V's rows are tb apart per e. */
static void input_transform(const shape_t *s, const float *x, float *V, long t0, int nt)
{
    for (int i = 0; i < nt; ++i) {
        long n;
        int ty, tx;
        tile_origin(s, t0 + i, &n, &ty, &tx);
        int y0 = ty * TILE - s->pad, x0 = tx * TILE - s->pad;
        for (int cb = 0; cb < s->c; cb += VW) {
            int left = s->c - cb;
            vmask mask = tail_mask(left < VW ? left : VW);
            v16 d[ALPHA][ALPHA], u[ALPHA][ALPHA], col[ALPHA], row[ALPHA];
            for (int a = 0; a < ALPHA; ++a) {
                int y = y0 + a;
                for (int b = 0; b < ALPHA; ++b) {
                    int xx = x0 + b;
                    d[a][b] = (y < 0 || y >= s->h || xx < 0 || xx >= s->w)
                        ? V_ZERO()
                        : v_load_part(x + ((n * s->h + y) * (long)s->w + xx) * s->ldx + cb, left, mask);
                }
            }
            for (int b = 0; b < ALPHA; ++b) {
                for (int a = 0; a < ALPHA; ++a)
                    col[a] = d[a][b];
                input_1d(col, row);
                for (int a = 0; a < ALPHA; ++a)
                    u[a][b] = row[a];
            }
            float *q = V + (long)i * s->c + cb;
            for (int a = 0; a < ALPHA; ++a) {
                input_1d(u[a], row);
                for (int b = 0; b < ALPHA; ++b)
                    v_store_part(q + (a * ALPHA + b) * s->vs, left, mask, row[b]);
            }
        }
    }
}

/* M[rows x nv vectors] = A[rows x c] B[c x nv vectors] (B's and M's rows k floats apart),
 * with rows and nv constants once this is inlined. They must be known when this
 * compiles: with the row count a variable tested inside the loop over c, GCC kept
 * per-row flags and row offsets on the stack, and the AVX2 loop ran far more
 * instructions than its multiply-adds (BENCHMARKS.md, the winograd section, AVX2). */
static inline __attribute__((always_inline)) void
strip(const float *A, int c, const float *B, int k, float *M, const int rows, const int nv)
{
    const float *a[MR];
    v16 acc[MR][2];
    for (int r = 0; r < rows; ++r) {
        a[r] = A + (long)r * c;
        acc[r][0] = acc[r][1] = V_ZERO();
    }
    for (int q = 0; q < c; ++q, B += k) {
        v16 b0 = V_LOAD(B), b1 = nv == 2 ? V_LOAD(B + VW) : b0;
#pragma GCC unroll 16
        for (int r = 0; r < rows; ++r) {
            v16 av = V_SET1(a[r][q]);
            acc[r][0] = V_FMA(av, b0, acc[r][0]);
            if (nv == 2)
                acc[r][1] = V_FMA(av, b1, acc[r][1]);
        }
    }
    for (int r = 0; r < rows; ++r)
        for (int v = 0; v < nv; ++v)
            V_STORE(M + (long)r * k + v * VW, acc[r][v]);
}

/* strip() for any rows <= MR, each count compiled on its own. */
static void strip_rows(const float *A, int c, const float *B, int k, float *M, int rows, int nv)
{
#if MR > 8 || MR < 6
#error "strip_rows handles 6 to 8 rows"
#endif
#define STRIP(n) (nv == 2 ? strip(A, c, B, k, M, n, 2) : strip(A, c, B, k, M, n, 1))
    switch (rows) {
#if MR >= 8
    case 8: STRIP(8); break;
#endif
#if MR >= 7
    case 7: STRIP(7); break;
#endif
    case 6: STRIP(6); break;
    case 5: STRIP(5); break;
    case 4: STRIP(4); break;
    case 3: STRIP(3); break;
    case 2: STRIP(2); break;
    default: STRIP(1); break;
    }
#undef STRIP
}

/* M[nt x k] = A[nt x c] B[c x k]: a strip of 2 vectors of columns at a time (then one:
 * K is a multiple of 16, so of VW), through every register block of rows, so that the
 * strip of B (c x 2 vectors) is read from L2 or L3 once per block of tiles and stays in
 * L1 while the rows go by. (Rows outside, all of B went through L1 for each register
 * block.) */
static void products(const float *A, int c, const float *B, int k, float *M, int nt)
{
    for (int j = 0; j < k; j += 2 * VW) {
        int nv = j + 2 * VW <= k ? 2 : 1;
        for (int r = 0; r < nt; r += MR)
            strip_rows(A + (long)r * c, c, B + j, k, M + (long)r * k + j,
                       nt - r < MR ? nt - r : MR, nv);
    }
}

/* y = A^T M A (+ bias, ReLU) for the nt tiles from t0, cropped to the output. */
static void output_transform(const shape_t *s, const float *M, const float *bias, int relu,
                             float *y, long ldy, long t0, int nt)
{
    v16 zero = V_ZERO();
    for (int i = 0; i < nt; ++i) {
        long n;
        int ty, tx;
        tile_origin(s, t0 + i, &n, &ty, &tx);
        for (int kb = 0; kb < s->k; kb += VW) {
            v16 m[ALPHA][ALPHA], u[TILE][ALPHA], col[ALPHA], out[TILE];
            const float *p = M + (long)i * s->k + kb;
            for (int a = 0; a < ALPHA; ++a)
                for (int b = 0; b < ALPHA; ++b)
                    m[a][b] = V_LOAD(p + (a * ALPHA + b) * s->ms);
            for (int b = 0; b < ALPHA; ++b) {
                for (int a = 0; a < ALPHA; ++a)
                    col[a] = m[a][b];
                output_1d(col, out);
                for (int a = 0; a < TILE; ++a)
                    u[a][b] = out[a];
            }
            v16 add = bias ? V_LOAD(bias + kb) : zero;
            for (int a = 0; a < TILE; ++a) {
                int oy = ty * TILE + a;
                if (oy >= s->oh)
                    break;
                output_1d(u[a], out);
                for (int b = 0; b < TILE; ++b) {
                    int ox = tx * TILE + b;
                    if (ox >= s->ow)
                        break;
                    v16 o = ADD(out[b], add);
                    if (relu)
                        o = v_relu(o);
                    V_STORE(y + ((n * s->oh + oy) * (long)s->ow + ox) * ldy + kb, o);
                }
            }
        }
    }
}

/* One thread's share: the tiles [t0, t1), in blocks of tb, with its own work buffer. */
static void tile_range(const shape_t *s, const float *x, const float *U, const float *bias,
                       int relu, float *y, long ldy, float *work, long t0, long t1, int tb)
{
    float *V = work, *M = work + ALPHA * ALPHA * s->vs;
    for (long t = t0; t < t1; t += tb) {
        int nt = (int)(t1 - t < tb ? t1 - t : tb);
        input_transform(s, x, V, t, nt);
        for (int e = 0; e < ALPHA * ALPHA; ++e)
            products(V + e * s->vs, s->c, U + (long)e * s->c * s->k, s->k, M + e * s->ms, nt);
        output_transform(s, M, bias, relu, y, ldy, t, nt);
    }
}

long winograd_work_floats(int c, int k, int tb)
{
    return (long)ALPHA * ALPHA * ((long)tb * (c + k) + 2 * SKEW);
}

/*
 * The whole convolution on `threads` OpenMP threads. Built with -fopenmp, this library
 * asks for libgomp.so.1 by name, and the dynamic loader hands it the copy PyTorch has
 * already loaded: the kernel runs in PyTorch's own thread team. (Run from a second
 * thread pool, it competed with PyTorch's threads, which spin for a while after each of
 * PyTorch's parallel regions, and googlenet_bn's 3x3s ran far slower.)
 * `work` holds winograd_work_floats(c, k, tb) floats per thread.
 */
void winograd_f43(const float *x, const float *U, const float *bias, float *y, float *work,
                  int n, int h, int w, int c, int k, int pad, int relu, long ldx, long ldy,
                  int tb, int threads)
{
    shape_t s;
    s.h = h; s.w = w; s.c = c; s.k = k; s.pad = pad; s.ldx = ldx;
    s.oh = h + 2 * pad - 2;
    s.ow = w + 2 * pad - 2;
    s.tiles_w = (s.ow + TILE - 1) / TILE;
    s.tiles_per_image = (long)((s.oh + TILE - 1) / TILE) * s.tiles_w;
    s.vs = (long)tb * c + SKEW;
    s.ms = (long)tb * k + SKEW;
    long tiles = n * s.tiles_per_image, per_thread = winograd_work_floats(c, k, tb);
#pragma omp parallel num_threads(threads)
    {
        long i = omp_get_thread_num(), parts = omp_get_num_threads();
        tile_range(&s, x, U, bias, relu, y, ldy, work + i * per_thread,
                   tiles * i / parts, tiles * (i + 1) / parts, tb);
    }
}
