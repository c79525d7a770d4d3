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
    public func forward(
        _ x: UnsafePointer<Float>, rows: Int, parameters: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>
    ) {
        let g = parameters + gain.offset, b = parameters + bias.offset
        let w = Float(width)
        for r in 0..<rows {
            let row = x + r * width, out = y + r * width
            var mean: Float = 0
            for j in 0..<width { mean += row[j] }
            mean /= w
            var variance: Float = 0
            for j in 0..<width {
                let c = row[j] - mean
                variance += c * c
            }
            let inv = 1 / (variance / w + epsilon).squareRoot()
            for j in 0..<width { out[j] = (row[j] - mean) * inv * g[j] + b[j] }
        }
    }
}
