import CNetworkKernels
import COpenBLAS

/// A floating-point type that OpenBLAS has kernels for: `Float` (the `s` routines) and `Double` (the `d` routines).
///
/// The requirements are thin, unsafe wrappers over the CBLAS entry points; the safe API is ``BLAS`` and ``Matrix``.
/// All matrices are row-major.
public protocol BLASScalar: BinaryFloatingPoint & Sendable & Codable where Self.RawSignificand: FixedWidthInteger {
    static func _gemm(
        _ transA: Bool, _ transB: Bool, _ m: Int, _ n: Int, _ k: Int, _ alpha: Self,
        _ a: UnsafePointer<Self>, _ lda: Int, _ b: UnsafePointer<Self>, _ ldb: Int, _ beta: Self,
        _ c: UnsafeMutablePointer<Self>, _ ldc: Int)
    static func _gemv(
        _ trans: Bool, _ m: Int, _ n: Int, _ alpha: Self, _ a: UnsafePointer<Self>, _ lda: Int,
        _ x: UnsafePointer<Self>, _ beta: Self, _ y: UnsafeMutablePointer<Self>)
    static func _ger(
        _ m: Int, _ n: Int, _ alpha: Self, _ x: UnsafePointer<Self>, _ y: UnsafePointer<Self>,
        _ a: UnsafeMutablePointer<Self>, _ lda: Int)
    static func _dot(_ n: Int, _ x: UnsafePointer<Self>, _ y: UnsafePointer<Self>) -> Self
    static func _axpy(_ n: Int, _ alpha: Self, _ x: UnsafePointer<Self>, _ y: UnsafeMutablePointer<Self>)
    static func _nrm2(_ n: Int, _ x: UnsafePointer<Self>) -> Self
    static func _scal(_ n: Int, _ alpha: Self, _ x: UnsafeMutablePointer<Self>)
}

@inline(__always) private func t(_ trans: Bool) -> CBLAS_TRANSPOSE { trans ? CblasTrans : CblasNoTrans }

extension Double: BLASScalar {
    public static func _gemm(
        _ transA: Bool, _ transB: Bool, _ m: Int, _ n: Int, _ k: Int, _ alpha: Double,
        _ a: UnsafePointer<Double>, _ lda: Int, _ b: UnsafePointer<Double>, _ ldb: Int, _ beta: Double,
        _ c: UnsafeMutablePointer<Double>, _ ldc: Int
    ) {
        cblas_dgemm(CblasRowMajor, t(transA), t(transB), Int32(m), Int32(n), Int32(k), alpha,
                    a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }
    public static func _gemv(
        _ trans: Bool, _ m: Int, _ n: Int, _ alpha: Double, _ a: UnsafePointer<Double>, _ lda: Int,
        _ x: UnsafePointer<Double>, _ beta: Double, _ y: UnsafeMutablePointer<Double>
    ) {
        cblas_dgemv(CblasRowMajor, t(trans), Int32(m), Int32(n), alpha, a, Int32(lda), x, 1, beta, y, 1)
    }
    public static func _ger(
        _ m: Int, _ n: Int, _ alpha: Double, _ x: UnsafePointer<Double>, _ y: UnsafePointer<Double>,
        _ a: UnsafeMutablePointer<Double>, _ lda: Int
    ) {
        cblas_dger(CblasRowMajor, Int32(m), Int32(n), alpha, x, 1, y, 1, a, Int32(lda))
    }
    public static func _dot(_ n: Int, _ x: UnsafePointer<Double>, _ y: UnsafePointer<Double>) -> Double {
        cblas_ddot(Int32(n), x, 1, y, 1)
    }
    public static func _axpy(_ n: Int, _ alpha: Double, _ x: UnsafePointer<Double>, _ y: UnsafeMutablePointer<Double>) {
        cblas_daxpy(Int32(n), alpha, x, 1, y, 1)
    }
    public static func _nrm2(_ n: Int, _ x: UnsafePointer<Double>) -> Double { cblas_dnrm2(Int32(n), x, 1) }
    public static func _scal(_ n: Int, _ alpha: Double, _ x: UnsafeMutablePointer<Double>) {
        cblas_dscal(Int32(n), alpha, x, 1)
    }
}

/// `Float` products go through the project's own kernel (``NetworkKernels``), not OpenBLAS: its results are the same
/// bits on every CPU, and on AVX-512 machines it runs at twice the speed of the OpenBLAS kernels that give
/// machine-independent results. The other `Float` routines and all `Double` ones are OpenBLAS's.
extension Float: BLASScalar {
    public static func _gemm(
        _ transA: Bool, _ transB: Bool, _ m: Int, _ n: Int, _ k: Int, _ alpha: Float,
        _ a: UnsafePointer<Float>, _ lda: Int, _ b: UnsafePointer<Float>, _ ldb: Int, _ beta: Float,
        _ c: UnsafeMutablePointer<Float>, _ ldc: Int
    ) {
        optimus_sgemm(transA ? 1 : 0, transB ? 1 : 0, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
    }
    /// OpenBLAS's `sgemm`, for benchmarks that compare it with the project's kernel (``Swift/Float/_gemm(_:_:_:_:_:_:_:_:_:_:_:_:_:)``).
    public static func _openBLASGemm(
        _ transA: Bool, _ transB: Bool, _ m: Int, _ n: Int, _ k: Int, _ alpha: Float,
        _ a: UnsafePointer<Float>, _ lda: Int, _ b: UnsafePointer<Float>, _ ldb: Int, _ beta: Float,
        _ c: UnsafeMutablePointer<Float>, _ ldc: Int
    ) {
        cblas_sgemm(CblasRowMajor, t(transA), t(transB), Int32(m), Int32(n), Int32(k), alpha,
                    a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }
    public static func _gemv(
        _ trans: Bool, _ m: Int, _ n: Int, _ alpha: Float, _ a: UnsafePointer<Float>, _ lda: Int,
        _ x: UnsafePointer<Float>, _ beta: Float, _ y: UnsafeMutablePointer<Float>
    ) {
        cblas_sgemv(CblasRowMajor, t(trans), Int32(m), Int32(n), alpha, a, Int32(lda), x, 1, beta, y, 1)
    }
    public static func _ger(
        _ m: Int, _ n: Int, _ alpha: Float, _ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>,
        _ a: UnsafeMutablePointer<Float>, _ lda: Int
    ) {
        cblas_sger(CblasRowMajor, Int32(m), Int32(n), alpha, x, 1, y, 1, a, Int32(lda))
    }
    public static func _dot(_ n: Int, _ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>) -> Float {
        cblas_sdot(Int32(n), x, 1, y, 1)
    }
    public static func _axpy(_ n: Int, _ alpha: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>) {
        cblas_saxpy(Int32(n), alpha, x, 1, y, 1)
    }
    public static func _nrm2(_ n: Int, _ x: UnsafePointer<Float>) -> Float { cblas_snrm2(Int32(n), x, 1) }
    public static func _scal(_ n: Int, _ alpha: Float, _ x: UnsafeMutablePointer<Float>) {
        cblas_sscal(Int32(n), alpha, x, 1)
    }
}

/// The project's single-precision kernels: the matrix product behind `Float`'s ``BLASScalar/_gemm(_:_:_:_:_:_:_:_:_:_:_:_:_:)``
/// and the row softmax of attention.
///
/// Every output element of a product is one sequential chain of fused multiply-adds over the inner dimension, and
/// every sum has a fixed 16-lane tree, whatever the vector width: the AVX-512, AVX2 and portable paths give the same
/// bits (tests compare them), so a network's outputs, and a training run, do not depend on the machine.
public enum NetworkKernels {
    /// An instruction set the kernels can use.
    public enum Level: Int, Sendable, CaseIterable, Comparable, CustomStringConvertible {
        case portable = 1
        case avx2 = 2
        case avx512 = 3
        public static func < (a: Level, b: Level) -> Bool { a.rawValue < b.rawValue }
        public var description: String {
            switch self {
            case .portable: "portable C"
            case .avx2: "AVX2 + FMA"
            case .avx512: "AVX-512F"
            }
        }
    }

    /// The level in use (the best the CPU has, unless lowered by ``setLevel(_:)``).
    public static var level: Level { Level(rawValue: Int(optimus_kernels_level())) ?? .portable }

    /// The levels this CPU can run.
    public static var available: [Level] {
        let current = Int(optimus_kernels_level())
        let best = Level(rawValue: Int(optimus_kernels_set_level(0))) ?? .portable
        _ = optimus_kernels_set_level(Int32(current == best.rawValue ? 0 : current))
        return Level.allCases.filter { $0 <= best }
    }

    /// Uses `level` (nil: the best available) from now on, process-wide; returns the level in force. A level the CPU
    /// lacks is refused (the current one stays). For tests and benchmarks that compare the paths.
    @discardableResult
    public static func setLevel(_ level: Level?) -> Level {
        Level(rawValue: Int(optimus_kernels_set_level(Int32(level?.rawValue ?? 0)))) ?? .portable
    }

    /// y = max(x·W + b, 0) (or without the bias or the max): `x` rows × inputs (leading dimension `ldx`), `W`
    /// inputs × outputs, `y` rows × outputs (leading dimension `ldy`). The same bits as the product into a copy of b
    /// with β = 1, then the max.
    public static func dense(
        _ x: UnsafePointer<Float>, ldx: Int, rows: Int, inputs: Int, outputs: Int, weight: UnsafePointer<Float>,
        bias: UnsafePointer<Float>?, relu: Bool, into y: UnsafeMutablePointer<Float>, ldy: Int
    ) {
        optimus_sgemm_epilogue(0, 0, rows, outputs, inputs, 1, x, ldx, weight, outputs, 0, y, ldy, bias, relu ? 1 : 0)
    }

    /// Layer normalization of every row (`NetworkKernels.h` gives the operations).
    public static func layerNorm(
        _ x: UnsafePointer<Float>, rows: Int, width: Int, gain: UnsafePointer<Float>, bias: UnsafePointer<Float>,
        epsilon: Float, into y: UnsafeMutablePointer<Float>
    ) {
        optimus_layer_norm(x, rows, width, gain, bias, epsilon, y)
    }

    /// The backward pass of ``layerNorm(_:rows:width:gain:bias:epsilon:into:)``: accumulates γ̄ and β̄, writes (or adds)
    /// dx.
    public static func layerNormBackward(
        _ x: UnsafePointer<Float>, rows: Int, width: Int, dy: UnsafePointer<Float>, gain: UnsafePointer<Float>,
        epsilon: Float, gainGradient: UnsafeMutablePointer<Float>, biasGradient: UnsafeMutablePointer<Float>,
        dx: UnsafeMutablePointer<Float>, accumulate: Bool
    ) {
        optimus_layer_norm_backward(x, rows, width, dy, gain, epsilon, gainGradient, biasGradient, dx,
                                    accumulate ? 1 : 0)
    }

    /// dy[i] = pre[i] > 0 ? dy[i] : 0, in place (ReLU's backward pass).
    public static func reluBackward(_ pre: UnsafePointer<Float>, _ dy: UnsafeMutablePointer<Float>, count: Int) {
        optimus_relu_backward(pre, dy, count)
    }

    /// ds = p ⊙ (ds − rowsum(ds ⊙ p)) in place, for the softmax's backward pass (`rows × columns`, contiguous).
    public static func softmaxBackward(_ p: UnsafePointer<Float>, _ ds: UnsafeMutablePointer<Float>, rows: Int,
                                       columns: Int) {
        optimus_softmax_backward(p, ds, rows, columns)
    }

    /// Softmax of every row of the `rows × columns` matrix at `m` (leading dimension `ld`), in place.
    public static func softmaxRows(_ m: UnsafeMutablePointer<Float>, rows: Int, columns: Int, ld: Int) {
        optimus_softmax_rows(m, rows, columns, ld)
    }
}
