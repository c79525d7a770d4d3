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

    /// y[rows × width] = attention(x[rows × width]).
    ///
    /// The scores are made, normalized and used a block of rows at a time, sized so that a block's rows × n scores
    /// (256 KB) stay in the core's L2 cache between the three passes; K_hᵀ is laid out once per head. Every element
    /// is computed by the same operations as the untiled product (one FMA chain over the head width, one softmax
    /// per row, one chain over the n columns), so the tiling changes speed, not results. Scratch:
    /// 4·rows·width + min(rows, 65536/rows)·rows floats.
    @inlinable
    public func forward<T: NetworkScalar>(
        _ x: UnsafePointer<T>, rows n: Int, parameters: UnsafePointer<T>, into y: UnsafeMutablePointer<T>
    ) {
        let d = width, dh = width / heads
        let block = Swift.max(1, Swift.min(n, 65_536 / Swift.max(n, 1)))
        let projected = UnsafeMutablePointer<T>.allocate(capacity: n * 3 * d)
        let keys = UnsafeMutablePointer<T>.allocate(capacity: dh * n)
        let scores = UnsafeMutablePointer<T>.allocate(capacity: block * n)
        let attended = UnsafeMutablePointer<T>.allocate(capacity: n * d)
        defer {
            projected.deallocate()
            keys.deallocate()
            scores.deallocate()
            attended.deallocate()
        }
        qkv.forward(x, rows: n, parameters: parameters, into: projected)
        let scale = 1 / T(dh).squareRoot()
        for h in 0..<heads {
            let q = projected + h * dh, k = projected + d + h * dh, v = projected + 2 * d + h * dh
            // K_hᵀ [dh × n].
            for j in 0..<n {
                let row = k + j * 3 * d
                for c in 0..<dh { keys[c * n + j] = row[c] }
            }
            var first = 0
            while first < n {
                let rows = Swift.min(block, n - first)
                // S = Q_h·K_hᵀ·scale for these rows, softmax, O_h = P·V_h into columns h·dh… of `attended`.
                T._gemm(false, false, rows, n, dh, scale, q + first * 3 * d, 3 * d, keys, n, 0, scores, n)
                T.networkSoftmaxRows(scores, rows: rows, columns: n)
                T._gemm(false, false, rows, dh, n, 1, scores, n, v, 3 * d, 0, attended + first * d + h * dh, d)
                first += rows
            }
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
