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
    public func forward(
        _ x: UnsafePointer<Float>, rows n: Int, parameters: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>
    ) {
        let d = width, dh = width / heads
        let projected = UnsafeMutablePointer<Float>.allocate(capacity: n * 3 * d)
        let scores = UnsafeMutablePointer<Float>.allocate(capacity: n * n)
        let attended = UnsafeMutablePointer<Float>.allocate(capacity: n * d)
        defer {
            projected.deallocate()
            scores.deallocate()
            attended.deallocate()
        }
        qkv.forward(x, rows: n, parameters: parameters, into: projected)
        let scale = 1 / Float(dh).squareRoot()
        for h in 0..<heads {
            let q = projected + h * dh, k = projected + d + h * dh, v = projected + 2 * d + h * dh
            // S = Q_h·K_hᵀ·scale  [n × n]
            Float._gemm(false, true, n, n, dh, scale, q, 3 * d, k, 3 * d, 0, scores, n)
            softmaxRows(scores, rows: n, columns: n)
            // O_h = P·V_h  [n × dh], written into columns h·dh… of `attended`.
            Float._gemm(false, false, n, dh, n, 1, scores, n, v, 3 * d, 0, attended + h * dh, d)
        }
        output.forward(attended, rows: n, parameters: parameters, into: y)
    }
}

/// Row-wise softmax in place, numerically stable (the row maximum is subtracted first).
@inlinable
public func softmaxRows(_ m: UnsafeMutablePointer<Float>, rows: Int, columns: Int) {
    for r in 0..<rows {
        let row = m + r * columns
        var mx = -Float.infinity
        for j in 0..<columns { mx = max(mx, row[j]) }
        var sum: Float = 0
        for j in 0..<columns {
            let e = Float.expApprox(row[j] - mx)
            row[j] = e
            sum += e
        }
        let inv = 1 / sum
        for j in 0..<columns { row[j] *= inv }
    }
}
