/// A dense, row-major matrix of `Float` or `Double`, stored in one contiguous array.
///
/// Element (i, j) lives at `storage[i * columns + j]`. Products go through ``BLAS``; this type only owns the memory and
/// checks shapes. It is a value type with copy-on-write storage, so a copy (for a PES pair, a checkpoint) is cheap
/// until it is mutated.
public struct Matrix<Scalar: BLASScalar>: Equatable, Sendable, Codable {
    /// Number of rows.
    public private(set) var rows: Int
    /// Number of columns.
    public private(set) var columns: Int
    /// Row-major elements; `storage.count == rows * columns`.
    public var storage: [Scalar]

    /// A `rows × columns` matrix filled with `value` (zero by default).
    public init(rows: Int, columns: Int, repeating value: Scalar = 0) {
        precondition(rows >= 0 && columns >= 0, "Matrix: negative shape \(rows)×\(columns)")
        self.rows = rows
        self.columns = columns
        self.storage = [Scalar](repeating: value, count: rows * columns)
    }

    /// A matrix over existing row-major storage.
    public init(rows: Int, columns: Int, storage: [Scalar]) {
        precondition(storage.count == rows * columns,
                     "Matrix: \(storage.count) elements do not fill a \(rows)×\(columns) matrix")
        self.rows = rows
        self.columns = columns
        self.storage = storage
    }

    /// A matrix from an array of equal-length rows.
    public init(_ rowArrays: [[Scalar]]) {
        let c = rowArrays.first?.count ?? 0
        precondition(rowArrays.allSatisfy { $0.count == c }, "Matrix: rows of different lengths")
        self.init(rows: rowArrays.count, columns: c, storage: rowArrays.flatMap { $0 })
    }

    /// The n×n identity scaled by `diagonal`.
    public static func identity(_ n: Int, scaledBy diagonal: Scalar = 1) -> Matrix {
        var m = Matrix(rows: n, columns: n)
        for i in 0..<n { m.storage[i * n + i] = diagonal }
        return m
    }

    /// Makes this square matrix the identity scaled by `diagonal`, in place (no second n×n allocation).
    public mutating func setIdentity(scaledBy diagonal: Scalar = 1) {
        precondition(rows == columns, "Matrix: setIdentity on a \(rows)×\(columns) matrix")
        let n = rows
        storage.withUnsafeMutableBufferPointer { p in
            for k in p.indices { p[k] = 0 }
            for i in 0..<n { p[i * n + i] = diagonal }
        }
    }

    /// Element (i, j).
    @inlinable
    public subscript(i: Int, j: Int) -> Scalar {
        get { storage[i * columns + j] }
        set { storage[i * columns + j] = newValue }
    }

    /// Row i as a new array.
    public func row(_ i: Int) -> [Scalar] { Array(storage[(i * columns)..<((i + 1) * columns)]) }

    /// The transpose as a new matrix.
    public var transposed: Matrix {
        var t = Matrix(rows: columns, columns: rows)
        for i in 0..<rows { for j in 0..<columns { t.storage[j * rows + i] = storage[i * columns + j] } }
        return t
    }

    /// Frobenius norm ‖A‖_F.
    public var frobeniusNorm: Scalar { BLAS.norm(storage) }

    /// Largest |A_ij − A_ji|, or nil for a non-square matrix. Zero for a symmetric matrix.
    public var asymmetry: Scalar? {
        guard rows == columns else { return nil }
        var worst: Scalar = 0
        for i in 0..<rows { for j in (i + 1)..<max(i + 1, columns) {
            worst = Swift.max(worst, abs(storage[i * columns + j] - storage[j * columns + i]))
        } }
        return worst
    }
}
