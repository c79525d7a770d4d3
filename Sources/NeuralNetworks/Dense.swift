import OptimusNumerics

/// A fully connected layer y = x·W + b applied to every row of a batch (every parameter coordinate).
///
/// W is `[inputs, outputs]` row-major, b is `[outputs]`, both views into a flat parameter buffer.
public struct Dense: Sendable, Equatable {
    public let inputs: Int
    public let outputs: Int
    public let weight: TensorSpec
    public let bias: TensorSpec?

    /// Registers `name.weight` (and `name.bias`) in `layout`.
    public init(_ name: String, inputs: Int, outputs: Int, bias: Bool = true, layout: inout ParameterLayout) {
        self.inputs = inputs
        self.outputs = outputs
        weight = layout.add("\(name).weight", shape: [inputs, outputs])
        self.bias = bias ? layout.add("\(name).bias", shape: [outputs]) : nil
    }

    /// y[rows × outputs] = x[rows × inputs]·W + b. `x` may be a column slice of a wider matrix (leading dimension
    /// `ldx`); `y` likewise (`ldy`). FLOPs: 2·rows·inputs·outputs.
    public func forward(
        _ x: UnsafePointer<Float>, ldx: Int? = nil, rows: Int, parameters: UnsafePointer<Float>,
        into y: UnsafeMutablePointer<Float>, ldy: Int? = nil
    ) {
        let ldyValue = ldy ?? outputs
        if let b = bias {
            for r in 0..<rows {
                (y + r * ldyValue).update(from: parameters + b.offset, count: outputs)
            }
        }
        Float._gemm(false, false, rows, outputs, inputs, 1, x, ldx ?? inputs, parameters + weight.offset, outputs,
                    bias == nil ? 0 : 1, y, ldyValue)
    }

    /// The same as a new array.
    public func forward(_ x: [Float], rows: Int, parameters: UnsafePointer<Float>) -> [Float] {
        var y = [Float](repeating: 0, count: rows * outputs)
        x.withUnsafeBufferPointer { xb in
            y.withUnsafeMutableBufferPointer { yb in
                forward(xb.baseAddress!, rows: rows, parameters: parameters, into: yb.baseAddress!)
            }
        }
        return y
    }
}

/// Element-wise activations.
public enum Activation: String, Codable, Sendable {
    case relu
    case gelu

    /// Applies the activation in place to `count` values.
    @inlinable
    public func apply(_ x: UnsafeMutablePointer<Float>, count: Int) {
        switch self {
        case .relu:
            for i in 0..<count { x[i] = max(x[i], 0) }
        case .gelu:
            // tanh approximation (Hendrycks & Gimpel 2016).
            for i in 0..<count {
                let v = x[i]
                x[i] = 0.5 * v * (1 + Float.tanhApprox(0.797_884_56 * (v + 0.044_715 * v * v * v)))
            }
        }
    }
}

extension Float {
    /// tanh via exp, accurate to a few ulp away from 0 (enough for activations).
    @inlinable
    static func tanhApprox(_ x: Float) -> Float {
        let c = Swift.min(Swift.max(x, -9), 9)
        let e = Float.expApprox(2 * c)
        return (e - 1) / (e + 1)
    }
}
