import COpenBLAS

/// Safe, BLAS-backed kernels on dense vectors (`[T]`) and row-major matrices (``Matrix``).
///
/// Vectors are plain Swift arrays: every optimizer iterate, gradient and feature vector in the project is a `[Double]`
/// or `[Float]`, which keeps the public API as light as scipy's NumPy arrays. Matrices are ``Matrix``.
///
/// Every function checks its shapes with `precondition`: a shape mismatch is a programming error, never user input
/// (user input is validated where it enters, with an error naming the field).
public enum BLAS {
    /// The number of threads OpenBLAS uses. Set it to 1 inside loops that already run one task per core.
    public static var threadCount: Int {
        get { Int(openblas_get_num_threads()) }
    }

    /// Sets the number of threads OpenBLAS uses for subsequent calls (process-wide).
    public static func setThreadCount(_ count: Int) {
        openblas_set_num_threads(Int32(max(1, count)))
    }

    /// xᵀy.
    @inlinable
    public static func dot<T: BLASScalar>(_ x: [T], _ y: [T]) -> T {
        precondition(x.count == y.count, "dot: lengths \(x.count) and \(y.count) differ")
        return T._dot(x.count, x, y)
    }

    /// ‖x‖₂, computed without overflow or underflow (BLAS nrm2).
    @inlinable
    public static func norm<T: BLASScalar>(_ x: [T]) -> T { T._nrm2(x.count, x) }

    /// y ← αx + y.
    @inlinable
    public static func axpy<T: BLASScalar>(_ alpha: T, _ x: [T], _ y: inout [T]) {
        precondition(x.count == y.count, "axpy: lengths \(x.count) and \(y.count) differ")
        let n = x.count
        y.withUnsafeMutableBufferPointer { yb in T._axpy(n, alpha, x, yb.baseAddress!) }
    }

    /// x ← αx.
    @inlinable
    public static func scale<T: BLASScalar>(_ alpha: T, _ x: inout [T]) {
        let n = x.count
        x.withUnsafeMutableBufferPointer { xb in if n > 0 { T._scal(n, alpha, xb.baseAddress!) } }
    }

    /// y ← α·op(A)·x + β·y, where op(A) is A or Aᵀ.
    @inlinable
    public static func gemv<T: BLASScalar>(
        _ a: Matrix<T>, transposed: Bool = false, _ x: [T], into y: inout [T], alpha: T = 1, beta: T = 0
    ) {
        let (outRows, inCols) = transposed ? (a.columns, a.rows) : (a.rows, a.columns)
        precondition(x.count == inCols, "gemv: x has length \(x.count), expected \(inCols)")
        precondition(y.count == outRows, "gemv: y has length \(y.count), expected \(outRows)")
        if a.rows == 0 || a.columns == 0 {
            scale(beta, &y)
            return
        }
        a.storage.withUnsafeBufferPointer { ab in
            y.withUnsafeMutableBufferPointer { yb in
                T._gemv(transposed, a.rows, a.columns, alpha, ab.baseAddress!, a.columns, x, beta, yb.baseAddress!)
            }
        }
    }

    /// op(A)·x as a new vector.
    @inlinable
    public static func gemv<T: BLASScalar>(_ a: Matrix<T>, transposed: Bool = false, _ x: [T]) -> [T] {
        var y = [T](repeating: 0, count: transposed ? a.columns : a.rows)
        gemv(a, transposed: transposed, x, into: &y)
        return y
    }

    /// A ← A + α·x·yᵀ (rank-one update).
    @inlinable
    public static func ger<T: BLASScalar>(_ alpha: T, _ x: [T], _ y: [T], _ a: inout Matrix<T>) {
        precondition(x.count == a.rows && y.count == a.columns,
                     "ger: x \(x.count), y \(y.count) do not match a \(a.rows)×\(a.columns) matrix")
        if a.rows == 0 || a.columns == 0 { return }
        let (m, n) = (a.rows, a.columns)
        a.storage.withUnsafeMutableBufferPointer { ab in T._ger(m, n, alpha, x, y, ab.baseAddress!, n) }
    }

    /// C ← α·op(A)·op(B) + β·C.
    @inlinable
    public static func gemm<T: BLASScalar>(
        _ a: Matrix<T>, transposeA: Bool = false, _ b: Matrix<T>, transposeB: Bool = false,
        into c: inout Matrix<T>, alpha: T = 1, beta: T = 0
    ) {
        let (m, k) = transposeA ? (a.columns, a.rows) : (a.rows, a.columns)
        let (kb, n) = transposeB ? (b.columns, b.rows) : (b.rows, b.columns)
        precondition(k == kb, "gemm: inner dimensions \(k) and \(kb) differ")
        precondition(c.rows == m && c.columns == n, "gemm: C is \(c.rows)×\(c.columns), expected \(m)×\(n)")
        if m == 0 || n == 0 { return }
        if k == 0 {
            c.storage.withUnsafeMutableBufferPointer { cb in
                for i in cb.indices { cb[i] *= beta }
            }
            return
        }
        a.storage.withUnsafeBufferPointer { ab in
            b.storage.withUnsafeBufferPointer { bb in
                c.storage.withUnsafeMutableBufferPointer { cb in
                    T._gemm(transposeA, transposeB, m, n, k, alpha, ab.baseAddress!, a.columns,
                            bb.baseAddress!, b.columns, beta, cb.baseAddress!, n)
                }
            }
        }
    }

    /// op(A)·op(B) as a new matrix.
    @inlinable
    public static func gemm<T: BLASScalar>(
        _ a: Matrix<T>, transposeA: Bool = false, _ b: Matrix<T>, transposeB: Bool = false
    ) -> Matrix<T> {
        let m = transposeA ? a.columns : a.rows
        let n = transposeB ? b.rows : b.columns
        var c = Matrix<T>(rows: m, columns: n)
        gemm(a, transposeA: transposeA, b, transposeB: transposeB, into: &c)
        return c
    }
}
