/// Layer normalization over the last dimension of every row: y = (x − μ)/√(σ² + ε)·γ + β (Ba, Kiros & Hinton 2016).
public struct LayerNorm: Sendable, Equatable {
    public let width: Int
    public let gain: TensorSpec
    public let bias: TensorSpec
    public let epsilon: Float

    /// Registers `name.gain` (initialize to 1) and `name.bias` (0).
    public init(_ name: String, width: Int, epsilon: Float = 1e-5, layout: inout ParameterLayout) {
        self.width = width
        self.epsilon = epsilon
        gain = layout.add("\(name).gain", shape: [width])
        bias = layout.add("\(name).bias", shape: [width])
    }

    /// y[rows × width] = LayerNorm(x[rows × width]).
    @inlinable
    public func forward<T: NetworkScalar>(
        _ x: UnsafePointer<T>, rows: Int, parameters: UnsafePointer<T>, into y: UnsafeMutablePointer<T>
    ) {
        T.networkLayerNorm(x, rows: rows, width: width, gain: parameters + gain.offset, bias: parameters + bias.offset,
                           epsilon: T(epsilon), into: y)
    }
}

/// ``LayerNorm`` with sequential sums (the `Double` path; `Float` uses the project's kernel with 16-lane sums).
@inlinable
public func layerNormRows<T: NetworkScalar>(
    _ x: UnsafePointer<T>, rows: Int, width: Int, gain g: UnsafePointer<T>, bias b: UnsafePointer<T>, epsilon: T,
    into y: UnsafeMutablePointer<T>
) {
    for r in 0..<rows {
        let row = x + r * width, out = y + r * width
        let (mean, inv) = layerNormStatistics(row, width: width, epsilon: epsilon)
        for j in 0..<width { out[j] = (row[j] - mean) * inv * g[j] + b[j] }
    }
}

/// μ and 1/√(σ² + ε) of one row, with sequential sums: what the forward pass and, recomputing them, the backward pass
/// of the `Double` path use.
@inlinable
func layerNormStatistics<T: NetworkScalar>(_ row: UnsafePointer<T>, width: Int, epsilon: T) -> (mean: T, inv: T) {
    let w = T(width)
    var mean: T = 0
    for j in 0..<width { mean += row[j] }
    mean /= w
    var variance: T = 0
    for j in 0..<width {
        let c = row[j] - mean
        variance += c * c
    }
    return (mean, 1 / (variance / w + epsilon).squareRoot())
}
