// Single-precision kernels of the project's neural networks: a matrix product and a row softmax whose results are
// the same bits on every x86-64 CPU (AVX-512, AVX2 + FMA, or neither).
//
// Why our own: OpenBLAS picks its kernels by CPU model, and different kernels sum in different orders, so a network
// evaluated through it gives different bits on different machines (unless OPENBLAS_CORETYPE pins one kernel family
// for all, which on AVX-512 machines costs half the speed). Here every output element of a product is one
// sequential fused multiply-add chain over k, whatever the vector width, and every reduction has a fixed 16-lane
// tree; only the number of elements computed at once depends on the CPU.
#pragma once
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/// C = alpha·op(A)·op(B) + beta·C, row-major, op(X) = X or Xᵀ. C is m × n, op(A) m × k, op(B) k × n.
/// Element (i, j): s = fma chain over p = 0…k−1 of op(A)[i,p]·op(B)[p,j] starting from 0, then
/// C[i,j] = alpha·s (beta == 0: C is not read) or alpha·s + beta·C[i,j], each operation rounded once.
void optimus_sgemm(int transA, int transB, long m, long n, long k, float alpha, const float *a, long lda,
                   const float *b, long ldb, float beta, float *c, long ldc);

/// The same product with an epilogue, for a dense layer: C[i,j] = alpha·s (+ beta·C[i,j] if beta ≠ 0)
/// (+ bias[j] if bias is not NULL), then max(·, 0) if relu ≠ 0; each operation rounded once, in that order.
void optimus_sgemm_epilogue(int transA, int transB, long m, long n, long k, float alpha, const float *a, long lda,
                            const float *b, long ldb, float beta, float *c, long ldc, const float *bias, int relu);

/// Softmax of every row of m (rows × columns, leading dimension ld), in place: subtract the row maximum,
/// e^x with the project's branch-free polynomial (the same operations as Swift's `Float.expApprox`), divide by the
/// sum (a 16-lane sum: lane l adds the elements j ≡ l mod 16 in order, then a fixed tree); probabilities below the
/// smallest normal float (1.18e−38) are set to 0.
void optimus_softmax_rows(float *m, long rows, long columns, long ld);

/// Layer normalization of every row (width w): μ = Σx/w, σ² = Σ(x − μ)²/w (16-lane sums), inv = 1/√(σ² + ε),
/// y = ((x − μ)·inv)·γ + β.
void optimus_layer_norm(const float *x, long rows, long width, const float *gain, const float *bias, float epsilon,
                        float *y);

/// Its backward pass: x̂ = (x − μ)·inv, γ̄ += dy·x̂, β̄ += dy (in row order), dx̂ = dy·γ,
/// dx = ((dx̂ − mean(dx̂)) − x̂·mean(dx̂·x̂))·inv, written into dx or added to it (accumulate ≠ 0).
void optimus_layer_norm_backward(const float *x, long rows, long width, const float *dy, const float *gain,
                                 float epsilon, float *dgain, float *dbias, float *dx, int accumulate);

/// The softmax's backward pass in place: for each row, ds = p ⊙ (dp − Σ dp ⊙ p) (a 16-lane sum). p and ds are
/// rows × columns with leading dimension columns.
void optimus_softmax_backward(const float *p, float *ds, long rows, long columns);

/// ReLU's backward pass in place: dy[i] = pre[i] > 0 ? dy[i] : 0.
void optimus_relu_backward(const float *pre, float *dy, long count);

/// glibc: blocks up to 32 MB from the heap, heap trimmed only when 1 GB at its top is free (Swift's `Allocator`
/// documents why). Does nothing with other C libraries.
void optimus_retain_freed_memory(void);

/// The instruction set the kernels use: 3 = AVX-512F, 2 = AVX2 + FMA, 1 = portable C. Chosen once from the CPU;
/// `optimus_kernels_set_level` lowers it (for tests that compare the paths; a level above what the CPU has is
/// refused and returns the level in force).
int optimus_kernels_level(void);
int optimus_kernels_set_level(int level);

#ifdef __cplusplus
}
#endif
