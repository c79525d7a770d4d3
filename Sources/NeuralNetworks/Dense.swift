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

    /// y[rows × outputs] = x[rows × inputs]·W + b, then max(·, 0) if `relu` (fused into the product's last pass).
    /// `x` may be a column slice of a wider matrix (leading dimension `ldx`); `y` likewise (`ldy`). FLOPs:
    /// 2·rows·inputs·outputs.
    @inlinable
    public func forward<T: NetworkScalar>(
        _ x: UnsafePointer<T>, ldx: Int? = nil, rows: Int, parameters: UnsafePointer<T>,
        into y: UnsafeMutablePointer<T>, ldy: Int? = nil, relu: Bool = false
    ) {
        T.networkDense(x, ldx: ldx ?? inputs, rows: rows, inputs: inputs, outputs: outputs,
                       weight: parameters + weight.offset, bias: bias.map { parameters + $0.offset }, relu: relu,
                       into: y, ldy: ldy ?? outputs)
    }

    /// The same as a new array.
    @inlinable
    public func forward<T: NetworkScalar>(_ x: [T], rows: Int, parameters: UnsafePointer<T>) -> [T] {
        [T](unsafeUninitializedCapacity: rows * outputs) { yb, count in
            x.withUnsafeBufferPointer { xb in
                forward(xb.baseAddress!, rows: rows, parameters: parameters, into: yb.baseAddress!)
            }
            count = rows * outputs
        }
    }
}

/// Element-wise activations.
public enum Activation: String, Codable, Sendable {
    case relu
    case gelu

    /// Applies the activation in place to `count` values.
    @inlinable
    public func apply<T: NetworkScalar>(_ x: UnsafeMutablePointer<T>, count: Int) {
        switch self {
        case .relu:
            for i in 0..<count { x[i] = max(x[i], 0) }
        case .gelu:
            // tanh approximation (Hendrycks & Gimpel 2016).
            for i in 0..<count {
                let v = x[i]
                x[i] = 0.5 * v * (1 + T.networkTanh(0.797_884_56 * (v + 0.044_715 * v * v * v)))
            }
        }
    }

    /// dx = dy·σ'(pre) in place on `dy`, for the pre-activations `pre` of the forward pass.
    @inlinable
    public func backward<T: NetworkScalar>(_ pre: UnsafePointer<T>, _ dy: UnsafeMutablePointer<T>, count: Int) {
        switch self {
        case .relu:
            T.networkReluBackward(pre, dy, count: count)
        case .gelu:
            let c: T = 0.797_884_56, a: T = 0.044_715
            for i in 0..<count {
                let v = pre[i]
                let t = T.networkTanh(c * (v + a * v * v * v))
                dy[i] *= 0.5 * (1 + t) + 0.5 * v * (1 - t * t) * c * (1 + 3 * a * v * v)
            }
        }
    }
}

extension Float {
    /// tanh via exp, accurate to a few ulp away from 0 (enough for activations).
    @inlinable
    public static func tanhApprox(_ x: Float) -> Float {
        let c = Swift.min(Swift.max(x, -9), 9)
        let e = Float.expApprox(2 * c)
        return (e - 1) / (e + 1)
    }
}
