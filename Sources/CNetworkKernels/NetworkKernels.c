// The kernels of NetworkKernels.h. Every path (AVX-512F, AVX2 + FMA, portable C) performs the same rounded
// operations on every element in the same order, so the three give the same bits; tests compare them.
#include "NetworkKernels.h"

#include <float.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

// No contraction of a·b + c into an FMA behind our back: the portable path must round like the vector ones.
#pragma clang fp contract(off)

#if defined(__x86_64__)
#include <immintrin.h>
#define OPTIMUS_X86 1
#else
#define OPTIMUS_X86 0
#endif

// MARK: - Which instruction set

static int detected_level = 0;
static int forced_level = 0;

static int cpu_level(void) {
    int level = __atomic_load_n(&detected_level, __ATOMIC_RELAXED);
    if (level) return level;
    level = 1;
#if OPTIMUS_X86
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) level = 3;
    else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) level = 2;
#endif
    __atomic_store_n(&detected_level, level, __ATOMIC_RELAXED);
    return level;
}

int optimus_kernels_level(void) {
    int forced = __atomic_load_n(&forced_level, __ATOMIC_RELAXED);
    return forced ? forced : cpu_level();
}

int optimus_kernels_set_level(int level) {
    if (level == 0 || (level >= 1 && level <= cpu_level())) __atomic_store_n(&forced_level, level, __ATOMIC_RELAXED);
    return optimus_kernels_level();
}

// MARK: - Scratch memory (one growing buffer per thread, freed when the thread ends)

static pthread_key_t scratch_key;
static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;
typedef struct { float *data[2]; size_t capacity[2]; } Scratch;

static void scratch_free(void *p) {
    Scratch *s = p;
    free(s->data[0]);
    free(s->data[1]);
    free(s);
}
static void scratch_make_key(void) { pthread_key_create(&scratch_key, scratch_free); }

// Slot 0: the copy of op(B); slot 1: the transposed result of the swapped product.
static float *scratch(int slot, size_t count) {
    pthread_once(&scratch_once, scratch_make_key);
    Scratch *s = pthread_getspecific(scratch_key);
    if (!s) {
        s = calloc(1, sizeof(Scratch));
        if (!s) abort();
        pthread_setspecific(scratch_key, s);
    }
    if (count > s->capacity[slot]) {
        free(s->data[slot]);
        size_t bytes = ((count * sizeof(float)) + 63) / 64 * 64;
        s->data[slot] = aligned_alloc(64, bytes);
        if (!s->data[slot]) abort();
        s->capacity[slot] = bytes / sizeof(float);
    }
    return s->data[slot];
}

// MARK: - Matrix product

// op(B) as a k × n matrix with unit column stride: row p starts at b + p·brs. op(A)[i, p] = a[i·ars + p·acs].

static void gemm_portable(long m, long n, long k, float alpha, const float *a, long ars, long acs, const float *b,
                          long brs, float beta, float *c, long ldc, const float *bias, int relu) {
    for (long i = 0; i < m; i++) {
        for (long j = 0; j < n; j++) {
            float s = 0;
            for (long p = 0; p < k; p++) s = fmaf(a[i * ars + p * acs], b[p * brs + j], s);
            float r = alpha * s;
            if (beta != 0) r = r + beta * c[i * ldc + j];
            if (bias) r = r + bias[j];
            if (relu) r = r > 0 ? r : 0;
            c[i * ldc + j] = r;
        }
    }
}

#if OPTIMUS_X86
// AVX-512: 12 rows × 32 columns of C per call, 24 accumulators.
#define AVX512_MR 12
__attribute__((target("avx512f"), always_inline)) static inline void
kernel512(const int mr, long k, const float *a, long ars, long acs, const float *b, long brs, __mmask16 m0,
          __mmask16 m1, float alpha, float beta, float *c, long ldc, const float *bias, int relu) {
    __m512 acc0[AVX512_MR], acc1[AVX512_MR];
    _Pragma("clang loop unroll(full)") for (int i = 0; i < mr; i++) {
        acc0[i] = _mm512_setzero_ps();
        acc1[i] = _mm512_setzero_ps();
    }
    for (long p = 0; p < k; p++) {
        const float *bp = b + p * brs;
        const __m512 b0 = _mm512_maskz_loadu_ps(m0, bp);
        const __m512 b1 = _mm512_maskz_loadu_ps(m1, bp + 16);
        const float *ap = a + p * acs;
        _Pragma("clang loop unroll(full)") for (int i = 0; i < mr; i++) {
            const __m512 ai = _mm512_set1_ps(ap[i * ars]);
            acc0[i] = _mm512_fmadd_ps(ai, b0, acc0[i]);
            acc1[i] = _mm512_fmadd_ps(ai, b1, acc1[i]);
        }
    }
    const __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
    const __m512 bias0 = bias ? _mm512_maskz_loadu_ps(m0, bias) : _mm512_setzero_ps();
    const __m512 bias1 = bias ? _mm512_maskz_loadu_ps(m1, bias + 16) : _mm512_setzero_ps();
    _Pragma("clang loop unroll(full)") for (int i = 0; i < mr; i++) {
        float *ci = c + i * ldc;
        __m512 r0 = _mm512_mul_ps(va, acc0[i]), r1 = _mm512_mul_ps(va, acc1[i]);
        if (beta != 0) {
            r0 = _mm512_add_ps(r0, _mm512_mul_ps(vb, _mm512_maskz_loadu_ps(m0, ci)));
            r1 = _mm512_add_ps(r1, _mm512_mul_ps(vb, _mm512_maskz_loadu_ps(m1, ci + 16)));
        }
        if (bias) {
            r0 = _mm512_add_ps(r0, bias0);
            r1 = _mm512_add_ps(r1, bias1);
        }
        if (relu) {
            r0 = _mm512_max_ps(r0, _mm512_setzero_ps());
            r1 = _mm512_max_ps(r1, _mm512_setzero_ps());
        }
        _mm512_mask_storeu_ps(ci, m0, r0);
        _mm512_mask_storeu_ps(ci + 16, m1, r1);
    }
}

#define KERNEL512(MR)                                                                                              \
    __attribute__((target("avx512f"))) static void kernel512_##MR(long k, const float *a, long ars, long acs,     \
                                                                  const float *b, long brs, __mmask16 m0,          \
                                                                  __mmask16 m1, float alpha, float beta, float *c, \
                                                                  long ldc, const float *bias, int relu) {         \
        kernel512(MR, k, a, ars, acs, b, brs, m0, m1, alpha, beta, c, ldc, bias, relu);                            \
    }
KERNEL512(1) KERNEL512(2) KERNEL512(3) KERNEL512(4) KERNEL512(5) KERNEL512(6)
KERNEL512(7) KERNEL512(8) KERNEL512(9) KERNEL512(10) KERNEL512(11) KERNEL512(12)
typedef void (*Kernel512)(long, const float *, long, long, const float *, long, __mmask16, __mmask16, float, float,
                          float *, long, const float *, int);
static const Kernel512 kernels512[AVX512_MR + 1] = {
    0, kernel512_1, kernel512_2, kernel512_3, kernel512_4, kernel512_5, kernel512_6,
    kernel512_7, kernel512_8, kernel512_9, kernel512_10, kernel512_11, kernel512_12,
};

__attribute__((target("avx512f"))) static void
gemm512(long m, long n, long k, float alpha, const float *a, long ars, long acs, const float *b, long brs,
        float beta, float *c, long ldc, const float *bias, int relu) {
    // Rows of A in blocks that stay in L2 while the 32-column strips of B pass over them.
    long mc = k > 0 ? (65536 / k) / AVX512_MR * AVX512_MR : m;
    if (mc < AVX512_MR) mc = AVX512_MR;
    for (long ic = 0; ic < m; ic += mc) {
        const long iend = ic + mc < m ? ic + mc : m;
        for (long j = 0; j < n; j += 32) {
            const long w = n - j < 32 ? n - j : 32;
            const __mmask16 m0 = w >= 16 ? 0xFFFF : (__mmask16)((1u << w) - 1);
            const __mmask16 m1 = w >= 32 ? 0xFFFF : (w > 16 ? (__mmask16)((1u << (w - 16)) - 1) : 0);
            // Rows split evenly over the blocks (25 = 9 + 8 + 8, not 12 + 12 + 1): a block of very few rows has
            // too few independent FMA chains to hide the FMA latency.
            const long blocks = (iend - ic + AVX512_MR - 1) / AVX512_MR, base = (iend - ic) / blocks, extra = (iend - ic) % blocks;
            for (long blk = 0, i = ic; blk < blocks; blk++) {
                const long rows = base + (blk < extra ? 1 : 0);
                kernels512[rows](k, a + i * ars, ars, acs, b + j, brs, m0, m1, alpha, beta, c + i * ldc + j, ldc,
                                 bias ? bias + j : 0, relu);
                i += rows;
            }
        }
    }
}

// AVX2 + FMA: 6 rows × 16 columns, 12 accumulators.
#define AVX2_MR 6
__attribute__((target("avx2,fma"), always_inline)) static inline void
kernel256(const int mr, long k, const float *a, long ars, long acs, const float *b, long brs, __m256i m0, __m256i m1,
          float alpha, float beta, float *c, long ldc, const float *bias, int relu) {
    __m256 acc0[AVX2_MR], acc1[AVX2_MR];
    _Pragma("clang loop unroll(full)") for (int i = 0; i < mr; i++) {
        acc0[i] = _mm256_setzero_ps();
        acc1[i] = _mm256_setzero_ps();
    }
    for (long p = 0; p < k; p++) {
        const float *bp = b + p * brs;
        const __m256 b0 = _mm256_maskload_ps(bp, m0);
        const __m256 b1 = _mm256_maskload_ps(bp + 8, m1);
        const float *ap = a + p * acs;
        _Pragma("clang loop unroll(full)") for (int i = 0; i < mr; i++) {
            const __m256 ai = _mm256_set1_ps(ap[i * ars]);
            acc0[i] = _mm256_fmadd_ps(ai, b0, acc0[i]);
            acc1[i] = _mm256_fmadd_ps(ai, b1, acc1[i]);
        }
    }
    const __m256 va = _mm256_set1_ps(alpha), vb = _mm256_set1_ps(beta);
    const __m256 bias0 = bias ? _mm256_maskload_ps(bias, m0) : _mm256_setzero_ps();
    const __m256 bias1 = bias ? _mm256_maskload_ps(bias + 8, m1) : _mm256_setzero_ps();
    _Pragma("clang loop unroll(full)") for (int i = 0; i < mr; i++) {
        float *ci = c + i * ldc;
        __m256 r0 = _mm256_mul_ps(va, acc0[i]), r1 = _mm256_mul_ps(va, acc1[i]);
        if (beta != 0) {
            r0 = _mm256_add_ps(r0, _mm256_mul_ps(vb, _mm256_maskload_ps(ci, m0)));
            r1 = _mm256_add_ps(r1, _mm256_mul_ps(vb, _mm256_maskload_ps(ci + 8, m1)));
        }
        if (bias) {
            r0 = _mm256_add_ps(r0, bias0);
            r1 = _mm256_add_ps(r1, bias1);
        }
        if (relu) {
            r0 = _mm256_max_ps(r0, _mm256_setzero_ps());
            r1 = _mm256_max_ps(r1, _mm256_setzero_ps());
        }
        _mm256_maskstore_ps(ci, m0, r0);
        _mm256_maskstore_ps(ci + 8, m1, r1);
    }
}

#define KERNEL256(MR)                                                                                              \
    __attribute__((target("avx2,fma"))) static void kernel256_##MR(long k, const float *a, long ars, long acs,    \
                                                                   const float *b, long brs, __m256i m0,           \
                                                                   __m256i m1, float alpha, float beta, float *c,  \
                                                                   long ldc, const float *bias, int relu) {        \
        kernel256(MR, k, a, ars, acs, b, brs, m0, m1, alpha, beta, c, ldc, bias, relu);                            \
    }
KERNEL256(1) KERNEL256(2) KERNEL256(3) KERNEL256(4) KERNEL256(5) KERNEL256(6)
typedef void (*Kernel256)(long, const float *, long, long, const float *, long, __m256i, __m256i, float, float,
                          float *, long, const float *, int);
static const Kernel256 kernels256[AVX2_MR + 1] = {
    0, kernel256_1, kernel256_2, kernel256_3, kernel256_4, kernel256_5, kernel256_6,
};

__attribute__((target("avx2,fma"))) static void
gemm256(long m, long n, long k, float alpha, const float *a, long ars, long acs, const float *b, long brs,
        float beta, float *c, long ldc, const float *bias, int relu) {
    long mc = k > 0 ? (65536 / k) / AVX2_MR * AVX2_MR : m;
    if (mc < AVX2_MR) mc = AVX2_MR;
    const __m256i lanes0 = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const __m256i lanes1 = _mm256_setr_epi32(8, 9, 10, 11, 12, 13, 14, 15);
    for (long ic = 0; ic < m; ic += mc) {
        const long iend = ic + mc < m ? ic + mc : m;
        for (long j = 0; j < n; j += 16) {
            const __m256i w = _mm256_set1_epi32((int)(n - j < 16 ? n - j : 16));
            const __m256i m0 = _mm256_cmpgt_epi32(w, lanes0), m1 = _mm256_cmpgt_epi32(w, lanes1);
            // Rows split evenly over the blocks (25 = 9 + 8 + 8, not 12 + 12 + 1): a block of very few rows has
            // too few independent FMA chains to hide the FMA latency.
            const long blocks = (iend - ic + AVX2_MR - 1) / AVX2_MR, base = (iend - ic) / blocks, extra = (iend - ic) % blocks;
            for (long blk = 0, i = ic; blk < blocks; blk++) {
                const long rows = base + (blk < extra ? 1 : 0);
                kernels256[rows](k, a + i * ars, ars, acs, b + j, brs, m0, m1, alpha, beta, c + i * ldc + j, ldc,
                                 bias ? bias + j : 0, relu);
                i += rows;
            }
        }
    }
}
#endif

// dst[j·ldd + i] = src[i·lds + j] for i < rows, j < cols: pure data movement, so every path gives the same bits.
static void transpose_portable(const float *src, long lds, float *dst, long ldd, long rows, long cols) {
    for (long i0 = 0; i0 < rows; i0 += 16)
        for (long j0 = 0; j0 < cols; j0 += 16)
            for (long i = i0; i < i0 + 16 && i < rows; i++)
                for (long j = j0; j < j0 + 16 && j < cols; j++) dst[j * ldd + i] = src[i * lds + j];
}

#if OPTIMUS_X86
// 8 × 8 blocks in registers (unpack, shuffle, lane permute), the rest element by element.
__attribute__((target("avx2"))) static void transpose_avx2(const float *src, long lds, float *dst, long ldd, long rows,
                                                          long cols) {
    const long rb = rows / 8 * 8, cb = cols / 8 * 8;
    for (long i = 0; i < rb; i += 8) {
        for (long j = 0; j < cb; j += 8) {
            const float *s = src + i * lds + j;
            __m256 r0 = _mm256_loadu_ps(s), r1 = _mm256_loadu_ps(s + lds), r2 = _mm256_loadu_ps(s + 2 * lds),
                   r3 = _mm256_loadu_ps(s + 3 * lds), r4 = _mm256_loadu_ps(s + 4 * lds),
                   r5 = _mm256_loadu_ps(s + 5 * lds), r6 = _mm256_loadu_ps(s + 6 * lds),
                   r7 = _mm256_loadu_ps(s + 7 * lds);
            __m256 t0 = _mm256_unpacklo_ps(r0, r1), t1 = _mm256_unpackhi_ps(r0, r1);
            __m256 t2 = _mm256_unpacklo_ps(r2, r3), t3 = _mm256_unpackhi_ps(r2, r3);
            __m256 t4 = _mm256_unpacklo_ps(r4, r5), t5 = _mm256_unpackhi_ps(r4, r5);
            __m256 t6 = _mm256_unpacklo_ps(r6, r7), t7 = _mm256_unpackhi_ps(r6, r7);
            __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE);
            __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE);
            __m256 u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xEE);
            __m256 u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xEE);
            float *d = dst + j * ldd + i;
            _mm256_storeu_ps(d, _mm256_permute2f128_ps(u0, u4, 0x20));
            _mm256_storeu_ps(d + ldd, _mm256_permute2f128_ps(u1, u5, 0x20));
            _mm256_storeu_ps(d + 2 * ldd, _mm256_permute2f128_ps(u2, u6, 0x20));
            _mm256_storeu_ps(d + 3 * ldd, _mm256_permute2f128_ps(u3, u7, 0x20));
            _mm256_storeu_ps(d + 4 * ldd, _mm256_permute2f128_ps(u0, u4, 0x31));
            _mm256_storeu_ps(d + 5 * ldd, _mm256_permute2f128_ps(u1, u5, 0x31));
            _mm256_storeu_ps(d + 6 * ldd, _mm256_permute2f128_ps(u2, u6, 0x31));
            _mm256_storeu_ps(d + 7 * ldd, _mm256_permute2f128_ps(u3, u7, 0x31));
        }
        for (long ii = i; ii < i + 8; ii++)
            for (long j = cb; j < cols; j++) dst[j * ldd + ii] = src[ii * lds + j];
    }
    for (long i = rb; i < rows; i++)
        for (long j = 0; j < cols; j++) dst[j * ldd + i] = src[i * lds + j];
}
#endif

static void transpose(const float *src, long lds, float *dst, long ldd, long rows, long cols) {
#if OPTIMUS_X86
    if (optimus_kernels_level() >= 2) {
        transpose_avx2(src, lds, dst, ldd, rows, cols);
        return;
    }
#endif
    transpose_portable(src, lds, dst, ldd, rows, cols);
}

void optimus_sgemm(int transA, int transB, long m, long n, long k, float alpha, const float *a, long lda,
                   const float *b, long ldb, float beta, float *c, long ldc) {
    optimus_sgemm_epilogue(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, 0, 0);
}

void optimus_sgemm_epilogue(int transA, int transB, long m, long n, long k, float alpha, const float *a, long lda,
                            const float *b, long ldb, float beta, float *c, long ldc, const float *bias, int relu) {
    if (m <= 0 || n <= 0) return;
    if (transB && k > 0 && m < n && (long)m * k <= 262144) {
        // op(B) = Bᵀ would be copied whole (n × k) for few rows of C, as in dx = dy·Wᵀ of a backward pass. Compute
        // Cᵀ = B·op(A)ᵀ instead, which copies only the m × k of A, into scratch, and finish C from it. The products
        // and chains are the same (a·b = b·a exactly), so are the bits.
        float *t = scratch(1, (size_t)(2 * n * m));
        float *tt = t + n * m;
        optimus_sgemm_epilogue(0, !transA, n, m, k, alpha, b, ldb, a, lda, 0, t, m, 0, 0);
        const int plain = beta == 0 && !bias && !relu;
        transpose(t, m, plain ? c : tt, plain ? ldc : n, n, m);
        if (plain) return;
        for (long i = 0; i < m; i++) {
            float *ci = c + i * ldc;
            const float *ti = tt + i * n;
            for (long j = 0; j < n; j++) {
                float r = ti[j];
                if (beta != 0) r = r + beta * ci[j];
                if (bias) r = r + bias[j];
                if (relu) r = r > 0 ? r : 0;
                ci[j] = r;
            }
        }
        return;
    }
    const long ars = transA ? 1 : lda, acs = transA ? lda : 1;
    const float *bb = b;
    long brs = ldb;
    if (transB && k > 0) {
        // op(B)[p, j] = b[j·ldb + p]: copy it into a k × n block with unit column stride.
        const long npad = (n + 15) / 16 * 16;
        float *packed = scratch(0, (size_t)(k * npad));
        transpose(b, ldb, packed, npad, n, k);
        for (long p = 0; p < k; p++)
            for (long j = n; j < npad; j++) packed[p * npad + j] = 0;
        bb = packed;
        brs = npad;
    }
    switch (optimus_kernels_level()) {
#if OPTIMUS_X86
    case 3: gemm512(m, n, k, alpha, a, ars, acs, bb, brs, beta, c, ldc, bias, relu); return;
    case 2: gemm256(m, n, k, alpha, a, ars, acs, bb, brs, beta, c, ldc, bias, relu); return;
#endif
    default: gemm_portable(m, n, k, alpha, a, ars, acs, bb, brs, beta, c, ldc, bias, relu); return;
    }
}

// MARK: - Row softmax

// Swift's Float.expApprox, operation for operation (no contraction): clamp, n = round(x/ln 2) by the 1.5·2²³ trick,
// r = x − n·ln2 (two parts), the degree-6 polynomial, 2ⁿ from the exponent bits.
static inline float exp_portable(float x) {
    float cl = x > -87.3f ? x : -87.3f;
    cl = cl < 88.3f ? cl : 88.3f;
    const float t = cl * 1.44269504f + 12582912.0f;
    const float nn = t - 12582912.0f;
    const float r = (cl - nn * 0.693359375f) + nn * 2.1219444e-4f;
    const float r2 = r * r;
    float p = 1.98756915e-4f;
    p = p * r + 1.39819995e-3f;
    p = p * r + 8.3334519e-3f;
    p = p * r + 4.16657959e-2f;
    p = p * r + 1.66666655e-1f;
    p = p * r + 5.00000012e-1f;
    const float e = (p * r2 + r) + 1.0f;
    uint32_t bits;
    memcpy(&bits, &t, 4);
    bits = (bits - 0x4B400000u + 127u) << 23;
    float scale;
    memcpy(&scale, &bits, 4);
    return e * scale;
}

// Probabilities below the smallest normal float become 0: subnormal operands cost a microcode assist in the
// products that use them (measured: the softmax and P·V of a step 4× slower), and carry no weight.
static inline float flush(float p) { return p >= FLT_MIN ? p : 0.0f; }

static float sum16(const float lanes[16]) {
    float t8[8], t4[4];
    for (int l = 0; l < 8; l++) t8[l] = lanes[l] + lanes[l + 8];
    for (int l = 0; l < 4; l++) t4[l] = t8[l] + t8[l + 4];
    return (t4[0] + t4[2]) + (t4[1] + t4[3]);
}

static void softmax_portable(float *m, long rows, long columns, long ld) {
    for (long r = 0; r < rows; r++) {
        float *row = m + r * ld;
        float mx = -INFINITY;
        for (long j = 0; j < columns; j++) mx = row[j] > mx ? row[j] : mx;
        float lanes[16] = {0};
        for (long j = 0; j < columns; j++) {
            const float e = exp_portable(row[j] - mx);
            row[j] = e;
            lanes[j % 16] = lanes[j % 16] + e;
        }
        const float inv = 1.0f / sum16(lanes);
        for (long j = 0; j < columns; j++) row[j] = flush(row[j] * inv);
    }
}

#if OPTIMUS_X86
__attribute__((target("avx512f"))) static inline __m512 exp512(__m512 x) {
    __m512 cl = _mm512_min_ps(_mm512_max_ps(x, _mm512_set1_ps(-87.3f)), _mm512_set1_ps(88.3f));
    const __m512 magic = _mm512_set1_ps(12582912.0f);
    const __m512 t = _mm512_add_ps(_mm512_mul_ps(cl, _mm512_set1_ps(1.44269504f)), magic);
    const __m512 nn = _mm512_sub_ps(t, magic);
    const __m512 r = _mm512_add_ps(_mm512_sub_ps(cl, _mm512_mul_ps(nn, _mm512_set1_ps(0.693359375f))),
                                   _mm512_mul_ps(nn, _mm512_set1_ps(2.1219444e-4f)));
    const __m512 r2 = _mm512_mul_ps(r, r);
    __m512 p = _mm512_set1_ps(1.98756915e-4f);
    p = _mm512_add_ps(_mm512_mul_ps(p, r), _mm512_set1_ps(1.39819995e-3f));
    p = _mm512_add_ps(_mm512_mul_ps(p, r), _mm512_set1_ps(8.3334519e-3f));
    p = _mm512_add_ps(_mm512_mul_ps(p, r), _mm512_set1_ps(4.16657959e-2f));
    p = _mm512_add_ps(_mm512_mul_ps(p, r), _mm512_set1_ps(1.66666655e-1f));
    p = _mm512_add_ps(_mm512_mul_ps(p, r), _mm512_set1_ps(5.00000012e-1f));
    const __m512 e = _mm512_add_ps(_mm512_add_ps(_mm512_mul_ps(p, r2), r), _mm512_set1_ps(1.0f));
    __m512i bits = _mm512_sub_epi32(_mm512_castps_si512(t), _mm512_set1_epi32(0x4B400000));
    bits = _mm512_slli_epi32(_mm512_add_epi32(bits, _mm512_set1_epi32(127)), 23);
    return _mm512_mul_ps(e, _mm512_castsi512_ps(bits));
}

__attribute__((target("avx512f"))) static inline __m512 flush512(__m512 p) {
    return _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(p, _mm512_set1_ps(FLT_MIN), _CMP_GE_OQ), p);
}

__attribute__((target("avx512f"))) static void softmax512(float *m, long rows, long columns, long ld) {
    for (long r = 0; r < rows; r++) {
        float *row = m + r * ld;
        __m512 vmax = _mm512_set1_ps(-INFINITY);
        long j = 0;
        for (; j + 16 <= columns; j += 16) vmax = _mm512_max_ps(vmax, _mm512_loadu_ps(row + j));
        const __mmask16 tail = (__mmask16)((1u << (columns - j)) - 1);
        if (tail) vmax = _mm512_mask_max_ps(vmax, tail, vmax, _mm512_maskz_loadu_ps(tail, row + j));
        const __m512 mx = _mm512_set1_ps(_mm512_reduce_max_ps(vmax));
        __m512 sum = _mm512_setzero_ps();
        for (j = 0; j + 16 <= columns; j += 16) {
            const __m512 e = exp512(_mm512_sub_ps(_mm512_loadu_ps(row + j), mx));
            _mm512_storeu_ps(row + j, e);
            sum = _mm512_add_ps(sum, e);
        }
        if (tail) {
            const __m512 e = exp512(_mm512_sub_ps(_mm512_maskz_loadu_ps(tail, row + j), mx));
            _mm512_mask_storeu_ps(row + j, tail, e);
            sum = _mm512_mask_add_ps(sum, tail, sum, e);
        }
        float lanes[16];
        _mm512_storeu_ps(lanes, sum);
        const __m512 inv = _mm512_set1_ps(1.0f / sum16(lanes));
        for (j = 0; j + 16 <= columns; j += 16) _mm512_storeu_ps(row + j, flush512(_mm512_mul_ps(_mm512_loadu_ps(row + j), inv)));
        if (tail) _mm512_mask_storeu_ps(row + j, tail, flush512(_mm512_mul_ps(_mm512_maskz_loadu_ps(tail, row + j), inv)));
    }
}

__attribute__((target("avx2,fma"))) static inline __m256 exp256(__m256 x) {
    __m256 cl = _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(-87.3f)), _mm256_set1_ps(88.3f));
    const __m256 magic = _mm256_set1_ps(12582912.0f);
    const __m256 t = _mm256_add_ps(_mm256_mul_ps(cl, _mm256_set1_ps(1.44269504f)), magic);
    const __m256 nn = _mm256_sub_ps(t, magic);
    const __m256 r = _mm256_add_ps(_mm256_sub_ps(cl, _mm256_mul_ps(nn, _mm256_set1_ps(0.693359375f))),
                                   _mm256_mul_ps(nn, _mm256_set1_ps(2.1219444e-4f)));
    const __m256 r2 = _mm256_mul_ps(r, r);
    __m256 p = _mm256_set1_ps(1.98756915e-4f);
    p = _mm256_add_ps(_mm256_mul_ps(p, r), _mm256_set1_ps(1.39819995e-3f));
    p = _mm256_add_ps(_mm256_mul_ps(p, r), _mm256_set1_ps(8.3334519e-3f));
    p = _mm256_add_ps(_mm256_mul_ps(p, r), _mm256_set1_ps(4.16657959e-2f));
    p = _mm256_add_ps(_mm256_mul_ps(p, r), _mm256_set1_ps(1.66666655e-1f));
    p = _mm256_add_ps(_mm256_mul_ps(p, r), _mm256_set1_ps(5.00000012e-1f));
    const __m256 e = _mm256_add_ps(_mm256_add_ps(_mm256_mul_ps(p, r2), r), _mm256_set1_ps(1.0f));
    __m256i bits = _mm256_sub_epi32(_mm256_castps_si256(t), _mm256_set1_epi32(0x4B400000));
    bits = _mm256_slli_epi32(_mm256_add_epi32(bits, _mm256_set1_epi32(127)), 23);
    return _mm256_mul_ps(e, _mm256_castsi256_ps(bits));
}

__attribute__((target("avx2,fma"))) static inline __m256 flush256(__m256 p) {
    return _mm256_and_ps(p, _mm256_cmp_ps(p, _mm256_set1_ps(FLT_MIN), _CMP_GE_OQ));
}

__attribute__((target("avx2,fma"))) static void softmax256(float *m, long rows, long columns, long ld) {
    const __m256i lanes0 = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const __m256i lanes1 = _mm256_setr_epi32(8, 9, 10, 11, 12, 13, 14, 15);
    const long full = columns / 16 * 16;
    const __m256i w = _mm256_set1_epi32((int)(columns - full));
    const __m256i t0 = _mm256_cmpgt_epi32(w, lanes0), t1 = _mm256_cmpgt_epi32(w, lanes1);
    const int has_tail = columns > full;
    for (long r = 0; r < rows; r++) {
        float *row = m + r * ld;
        __m256 vmax = _mm256_set1_ps(-INFINITY);
        for (long j = 0; j < full; j += 8) vmax = _mm256_max_ps(vmax, _mm256_loadu_ps(row + j));
        float mxs = -INFINITY;
        float lanesmax[8];
        _mm256_storeu_ps(lanesmax, vmax);
        for (int l = 0; l < 8; l++) mxs = lanesmax[l] > mxs ? lanesmax[l] : mxs;
        for (long j = full; j < columns; j++) mxs = row[j] > mxs ? row[j] : mxs;
        const __m256 mx = _mm256_set1_ps(mxs);
        __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
        for (long j = 0; j < full; j += 16) {
            const __m256 e0 = exp256(_mm256_sub_ps(_mm256_loadu_ps(row + j), mx));
            const __m256 e1 = exp256(_mm256_sub_ps(_mm256_loadu_ps(row + j + 8), mx));
            _mm256_storeu_ps(row + j, e0);
            _mm256_storeu_ps(row + j + 8, e1);
            s0 = _mm256_add_ps(s0, e0);
            s1 = _mm256_add_ps(s1, e1);
        }
        if (has_tail) {
            const __m256 e0 = _mm256_and_ps(exp256(_mm256_sub_ps(_mm256_maskload_ps(row + full, t0), mx)),
                                            _mm256_castsi256_ps(t0));
            const __m256 e1 = _mm256_and_ps(exp256(_mm256_sub_ps(_mm256_maskload_ps(row + full + 8, t1), mx)),
                                            _mm256_castsi256_ps(t1));
            _mm256_maskstore_ps(row + full, t0, e0);
            _mm256_maskstore_ps(row + full + 8, t1, e1);
            s0 = _mm256_add_ps(s0, e0);
            s1 = _mm256_add_ps(s1, e1);
        }
        float lanes[16];
        _mm256_storeu_ps(lanes, s0);
        _mm256_storeu_ps(lanes + 8, s1);
        const __m256 inv = _mm256_set1_ps(1.0f / sum16(lanes));
        for (long j = 0; j < full; j += 8) _mm256_storeu_ps(row + j, flush256(_mm256_mul_ps(_mm256_loadu_ps(row + j), inv)));
        for (long j = full; j < columns; j++) row[j] = flush(row[j] * (1.0f / sum16(lanes)));
    }
}
#endif

void optimus_softmax_rows(float *m, long rows, long columns, long ld) {
    if (rows <= 0 || columns <= 0) return;
    switch (optimus_kernels_level()) {
#if OPTIMUS_X86
    case 3: softmax512(m, rows, columns, ld); return;
    case 2: softmax256(m, rows, columns, ld); return;
#endif
    default: softmax_portable(m, rows, columns, ld); return;
    }
}

// MARK: - Row kernels without intrinsics
//
// One source, compiled once per instruction set (ROW_KERNELS below). With contraction off and every sum in 16
// fixed lanes (lane l takes the elements j ≡ l mod 16, in order), the compiler may vectorize but not reorder, so
// every compilation gives the same bits.

// LANES(w, BODY): BODY for every j < w in blocks of 16, with `l` the lane (j mod 16): a form the compiler
// vectorizes without reordering any lane's sum.
#define LANES(w, BODY)                                                                                                \
    do {                                                                                                              \
        long j0_ = 0;                                                                                                 \
        for (; j0_ + 16 <= (w); j0_ += 16)                                                                            \
            for (long l = 0; l < 16; l++) {                                                                           \
                const long j = j0_ + l;                                                                               \
                BODY;                                                                                                 \
            }                                                                                                         \
        for (long l = 0; j0_ + l < (w); l++) {                                                                        \
            const long j = j0_ + l;                                                                                   \
            BODY;                                                                                                     \
        }                                                                                                             \
    } while (0)

#define ROW_KERNELS(SUFFIX, TARGET)                                                                                   \
    /* μ and 1/√(σ² + ε) of one row, shared by layer norm's forward pass and its backward pass (which recomputes */  \
    /* them rather than storing them). */                                                                            \
    TARGET static inline void layer_norm_statistics_##SUFFIX(const float *row, long w, float eps, float *mean,       \
                                                             float *inv) {                                           \
        float lanes[16] = {0};                                                                                       \
        LANES(w, lanes[l] = lanes[l] + row[j]);                                                                      \
        const float m = sum16(lanes) / (float)w;                                                                     \
        float sq[16] = {0};                                                                                          \
        LANES(w, const float c = row[j] - m; sq[l] = sq[l] + c * c);                                                 \
        *mean = m;                                                                                                   \
        *inv = 1.0f / sqrtf(sum16(sq) / (float)w + eps);                                                             \
    }                                                                                                                \
    TARGET static void layer_norm_##SUFFIX(const float *x, long rows, long w, const float *g, const float *b,         \
                                           float eps, float *y) {                                                   \
        for (long r = 0; r < rows; r++) {                                                                            \
            const float *row = x + r * w;                                                                            \
            float *out = y + r * w;                                                                                  \
            float mean, inv;                                                                                         \
            layer_norm_statistics_##SUFFIX(row, w, eps, &mean, &inv);                                                \
            for (long j = 0; j < w; j++) out[j] = ((row[j] - mean) * inv) * g[j] + b[j];                             \
        }                                                                                                            \
    }                                                                                                                \
    TARGET static void layer_norm_backward_##SUFFIX(const float *x, long rows, long w, const float *dy,              \
                                                    const float *g, float eps, float *dg, float *db, float *dx,      \
                                                    int accumulate, float *xhat, float *dxhat) {                     \
        for (long r = 0; r < rows; r++) {                                                                            \
            const float *row = x + r * w, *d = dy + r * w;                                                           \
            float *out = dx + r * w;                                                                                 \
            float mean, inv;                                                                                         \
            layer_norm_statistics_##SUFFIX(row, w, eps, &mean, &inv);                                                \
            for (long j = 0; j < w; j++) {                                                                           \
                xhat[j] = (row[j] - mean) * inv;                                                                     \
                dg[j] = dg[j] + d[j] * xhat[j];                                                                      \
                db[j] = db[j] + d[j];                                                                                \
                dxhat[j] = d[j] * g[j];                                                                              \
            }                                                                                                        \
            float md[16] = {0}, mdx[16] = {0};                                                                       \
            LANES(w, md[l] = md[l] + dxhat[j]; mdx[l] = mdx[l] + dxhat[j] * xhat[j]);                                \
            const float meanD = sum16(md) / (float)w, meanDX = sum16(mdx) / (float)w;                                \
            if (accumulate)                                                                                          \
                for (long j = 0; j < w; j++) out[j] = out[j] + ((dxhat[j] - meanD) - xhat[j] * meanDX) * inv;       \
            else                                                                                                     \
                for (long j = 0; j < w; j++) out[j] = ((dxhat[j] - meanD) - xhat[j] * meanDX) * inv;                 \
        }                                                                                                            \
    }                                                                                                                \
    TARGET static void relu_backward_##SUFFIX(const float *pre, float *dy, long count) {                             \
        for (long i = 0; i < count; i++) dy[i] = pre[i] > 0 ? dy[i] : 0.0f;                                         \
    }                                                                                                                \
    TARGET static void softmax_backward_##SUFFIX(const float *p, float *ds, long rows, long n) {                     \
        for (long r = 0; r < rows; r++) {                                                                            \
            const float *pr = p + r * n;                                                                             \
            float *dr = ds + r * n;                                                                                  \
            float lanes[16] = {0};                                                                                   \
            LANES(n, lanes[l] = lanes[l] + pr[j] * dr[j]);                                                           \
            const float dot = sum16(lanes);                                                                          \
            for (long j = 0; j < n; j++) dr[j] = pr[j] * (dr[j] - dot);                                              \
        }                                                                                                            \
    }

ROW_KERNELS(portable, )
#if OPTIMUS_X86
ROW_KERNELS(avx2, __attribute__((target("avx2,fma"))))
ROW_KERNELS(avx512, __attribute__((target("avx512f"))))
#endif

void optimus_layer_norm(const float *x, long rows, long width, const float *gain, const float *bias, float epsilon,
                        float *y) {
    switch (optimus_kernels_level()) {
#if OPTIMUS_X86
    case 3: layer_norm_avx512(x, rows, width, gain, bias, epsilon, y); return;
    case 2: layer_norm_avx2(x, rows, width, gain, bias, epsilon, y); return;
#endif
    default: layer_norm_portable(x, rows, width, gain, bias, epsilon, y); return;
    }
}

void optimus_layer_norm_backward(const float *x, long rows, long width, const float *dy, const float *gain,
                                 float epsilon, float *dgain, float *dbias, float *dx, int accumulate) {
    float *work = scratch(0, (size_t)(2 * width));
    switch (optimus_kernels_level()) {
#if OPTIMUS_X86
    case 3: layer_norm_backward_avx512(x, rows, width, dy, gain, epsilon, dgain, dbias, dx, accumulate, work, work + width); return;
    case 2: layer_norm_backward_avx2(x, rows, width, dy, gain, epsilon, dgain, dbias, dx, accumulate, work, work + width); return;
#endif
    default: layer_norm_backward_portable(x, rows, width, dy, gain, epsilon, dgain, dbias, dx, accumulate, work, work + width); return;
    }
}

void optimus_softmax_backward(const float *p, float *ds, long rows, long columns) {
    switch (optimus_kernels_level()) {
#if OPTIMUS_X86
    case 3: softmax_backward_avx512(p, ds, rows, columns); return;
    case 2: softmax_backward_avx2(p, ds, rows, columns); return;
#endif
    default: softmax_backward_portable(p, ds, rows, columns); return;
    }
}

void optimus_relu_backward(const float *pre, float *dy, long count) {
    switch (optimus_kernels_level()) {
#if OPTIMUS_X86
    case 3: relu_backward_avx512(pre, dy, count); return;
    case 2: relu_backward_avx2(pre, dy, count); return;
#endif
    default: relu_backward_portable(pre, dy, count); return;
    }
}

void optimus_retain_freed_memory(void) {
#if defined(__GLIBC__)
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    mallopt(M_TRIM_THRESHOLD, 1 << 30);
#endif
}
