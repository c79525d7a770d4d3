import OptimusNumerics

/// Multi-head self-attention over a set of rows (Vaswani et al. 2017), without positional encoding: permuting the
/// rows of the input permutes the rows of the output the same way.
///
/// Q, K, V = X·W_qkv (one [d, 3d] product); per head h with width d_h = d/heads,
/// O_h = softmax(Q_h K_hᵀ / √d_h)·V_h; Y = [O_1 … O_H]·W_o + b_o.
/// FLOPs for N rows: 2N·d·3d + heads·(2N²d_h + 2N²d_h) + 2N·d² = 8Nd² + 4N²d.
public struct MultiHeadSelfAttention: Sendable, Equatable {
    public let width: Int
    public let heads: Int
    public let qkv: Dense
    public let output: Dense

    public init(_ name: String, width: Int, heads: Int, layout: inout ParameterLayout) {
        precondition(width % heads == 0, "attention width \(width) is not a multiple of the head count \(heads)")
        self.width = width
        self.heads = heads
        qkv = Dense("\(name).qkv", inputs: width, outputs: 3 * width, layout: &layout)
        output = Dense("\(name).output", inputs: width, outputs: width, layout: &layout)
    }

    /// y[rows × width] = attention(x[rows × width]). Scratch: 3·rows·width + rows² + rows·width floats.
    @inlinable
    public func forward<T: NetworkScalar>(
        _ x: UnsafePointer<T>, rows n: Int, parameters: UnsafePointer<T>, into y: UnsafeMutablePointer<T>
    ) {
        let d = width, dh = width / heads
        let projected = UnsafeMutablePointer<T>.allocate(capacity: n * 3 * d)
        let scores = UnsafeMutablePointer<T>.allocate(capacity: n * n)
        let attended = UnsafeMutablePointer<T>.allocate(capacity: n * d)
        defer {
            projected.deallocate()
            scores.deallocate()
            attended.deallocate()
        }
        qkv.forward(x, rows: n, parameters: parameters, into: projected)
        let scale = 1 / T(dh).squareRoot()
        for h in 0..<heads {
            let q = projected + h * dh, k = projected + d + h * dh, v = projected + 2 * d + h * dh
            // S = Q_h·K_hᵀ·scale  [n × n]
            T._gemm(false, true, n, n, dh, scale, q, 3 * d, k, 3 * d, 0, scores, n)
            T.networkSoftmaxRows(scores, rows: n, columns: n)
            // O_h = P·V_h  [n × dh], written into columns h·dh… of `attended`.
            T._gemm(false, false, n, dh, n, 1, scores, n, v, 3 * d, 0, attended + h * dh, d)
        }
        output.forward(attended, rows: n, parameters: parameters, into: y)
    }
}

/// Row-wise softmax in place, numerically stable (the row maximum is subtracted first).
///
/// At N = 1000 the softmax is 12·10⁶ exponentials per Optimus step, so each pass is written to vectorize: the
/// exponential pass is a plain loop over the branch-free ``Swift/Float/expApprox(_:)`` (auto-vectorized), and the
/// maximum and the sum use eight independent accumulators (a single running sum does not vectorize, because
/// floating-point addition is not reassociated).
@inlinable
public func softmaxRows<T: NetworkScalar>(_ m: UnsafeMutablePointer<T>, rows: Int, columns: Int) {
    let blocks = columns / 8
    for r in 0..<rows {
        let row = m + r * columns
        var m0 = -T.infinity, m1 = m0, m2 = m0, m3 = m0, m4 = m0, m5 = m0, m6 = m0, m7 = m0
        for k in 0..<blocks {
            let b = row + 8 * k
            m0 = max(m0, b[0]); m1 = max(m1, b[1]); m2 = max(m2, b[2]); m3 = max(m3, b[3])
            m4 = max(m4, b[4]); m5 = max(m5, b[5]); m6 = max(m6, b[6]); m7 = max(m7, b[7])
        }
        var mx = max(max(max(m0, m1), max(m2, m3)), max(max(m4, m5), max(m6, m7)))
        for j in (8 * blocks)..<columns { mx = max(mx, row[j]) }
        for j in 0..<columns { row[j] = T.networkExp(row[j] - mx) }
        var s0: T = 0, s1: T = 0, s2: T = 0, s3: T = 0
        var s4: T = 0, s5: T = 0, s6: T = 0, s7: T = 0
        for k in 0..<blocks {
            let b = row + 8 * k
            s0 += b[0]; s1 += b[1]; s2 += b[2]; s3 += b[3]
            s4 += b[4]; s5 += b[5]; s6 += b[6]; s7 += b[7]
        }
        var sum = ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7))
        for j in (8 * blocks)..<columns { sum += row[j] }
        let inv = 1 / sum
        for j in 0..<columns { row[j] *= inv }
    }
}
