/// A pre-norm Transformer encoder layer: h = x + MHSA(LN₁(x)), y = h + FFN(LN₂(h)), FFN = Dense → activation → Dense.
///
/// Pre-norm (Xiong et al. 2020) keeps the residual stream un-normalized, which trains stably without warm-up and
/// keeps an untrained network close to the identity map; both matter for evolution strategies.
public struct TransformerEncoderLayer: Sendable, Equatable {
    public let width: Int
    public let norm1: LayerNorm
    public let attention: MultiHeadSelfAttention
    public let norm2: LayerNorm
    public let feedForward: MLP

    public init(_ name: String, width: Int, heads: Int, feedForwardWidth: Int, activation: Activation = .relu,
                layout: inout ParameterLayout) {
        self.width = width
        norm1 = LayerNorm("\(name).norm1", width: width, layout: &layout)
        attention = MultiHeadSelfAttention("\(name).attention", width: width, heads: heads, layout: &layout)
        norm2 = LayerNorm("\(name).norm2", width: width, layout: &layout)
        feedForward = MLP("\(name).ffn", sizes: [width, feedForwardWidth, width], activation: activation,
                          layout: &layout)
    }

    /// x ← layer(x) in place, for x[rows × width].
    @inlinable
    public func forward<T: NetworkScalar>(_ x: inout [T], rows n: Int, parameters: UnsafePointer<T>) {
        var normed = uninitializedBuffer(T.self, count: n * width)
        var attended = uninitializedBuffer(T.self, count: n * width)
        x.withUnsafeBufferPointer { xb in
            normed.withUnsafeMutableBufferPointer { nb in
                norm1.forward(xb.baseAddress!, rows: n, parameters: parameters, into: nb.baseAddress!)
            }
        }
        normed.withUnsafeBufferPointer { nb in
            attended.withUnsafeMutableBufferPointer { ab in
                attention.forward(nb.baseAddress!, rows: n, parameters: parameters, into: ab.baseAddress!)
            }
        }
        for i in 0..<x.count { x[i] += attended[i] }
        x.withUnsafeBufferPointer { xb in
            normed.withUnsafeMutableBufferPointer { nb in
                norm2.forward(xb.baseAddress!, rows: n, parameters: parameters, into: nb.baseAddress!)
            }
        }
        let ff = feedForward.forward(normed, rows: n, parameters: parameters)
        for i in 0..<x.count { x[i] += ff[i] }
    }

    /// FLOPs for n rows (matrix products only).
    public func flops(rows n: Int) -> Int {
        let d = width
        return 8 * n * d * d + 4 * n * n * d + n * feedForward.flopsPerRow
    }
}
