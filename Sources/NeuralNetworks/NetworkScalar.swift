import OptimusNumerics

/// The scalar types the layers run in: `Float` for inference and meta-training, `Double` for the reference path that
/// gradient checks compare against finite differences.
///
/// Every layer's forward pass is one generic `@inlinable` function, so both precisions run the same operations in
/// the same order (the `Float` instantiation is the inference code), and the backward passes (`Backpropagation.swift`)
/// are written against the same records.
public protocol NetworkScalar: BLASScalar {
    /// eˣ as the network computes it (`Float`: the branch-free ``Swift/Float/expApprox(_:)``; `Double`: libm).
    static func networkExp(_ x: Self) -> Self
    /// tanh as the GELU uses it.
    static func networkTanh(_ x: Self) -> Self
    /// Row softmax in place (`Float`: ``OptimusNumerics/NetworkKernels/softmaxRows(_:rows:columns:ld:)``; `Double`:
    /// ``softmaxRows(_:rows:columns:)``).
    static func networkSoftmaxRows(_ m: UnsafeMutablePointer<Self>, rows: Int, columns: Int)
    /// y = x·W + b, then max(·, 0) if `relu` (`Float`: one pass of ``OptimusNumerics/NetworkKernels/dense(_:ldx:rows:inputs:outputs:weight:bias:relu:into:ldy:)``;
    /// `Double`: b copied into y, the product with β = 1, the max).
    static func networkDense(
        _ x: UnsafePointer<Self>, ldx: Int, rows: Int, inputs: Int, outputs: Int, weight: UnsafePointer<Self>,
        bias: UnsafePointer<Self>?, relu: Bool, into y: UnsafeMutablePointer<Self>, ldy: Int)
    /// ``LayerNorm`` of every row (`Float`: the project's kernel, 16-lane sums; `Double`: sequential sums).
    static func networkLayerNorm(
        _ x: UnsafePointer<Self>, rows: Int, width: Int, gain: UnsafePointer<Self>, bias: UnsafePointer<Self>,
        epsilon: Self, into y: UnsafeMutablePointer<Self>)
    /// Its backward pass (accumulates γ̄, β̄; writes or adds dx).
    static func networkLayerNormBackward(
        _ x: UnsafePointer<Self>, rows: Int, width: Int, dy: UnsafePointer<Self>, gain: UnsafePointer<Self>,
        epsilon: Self, gainGradient: UnsafeMutablePointer<Self>, biasGradient: UnsafeMutablePointer<Self>,
        dx: UnsafeMutablePointer<Self>, accumulate: Bool)
    /// ds = p ⊙ (ds − rowsum(ds ⊙ p)) in place (`rows × columns`, contiguous).
    static func networkSoftmaxBackward(_ p: UnsafePointer<Self>, _ ds: UnsafeMutablePointer<Self>, rows: Int,
                                       columns: Int)
    /// dy[i] = pre[i] > 0 ? dy[i] : 0 in place.
    static func networkReluBackward(_ pre: UnsafePointer<Self>, _ dy: UnsafeMutablePointer<Self>, count: Int)
}

extension Float: NetworkScalar {
    @inlinable @inline(__always) public static func networkExp(_ x: Float) -> Float { expApprox(x) }
    @inlinable @inline(__always) public static func networkTanh(_ x: Float) -> Float { tanhApprox(x) }
    @inlinable public static func networkSoftmaxRows(_ m: UnsafeMutablePointer<Float>, rows: Int, columns: Int) {
        NetworkKernels.softmaxRows(m, rows: rows, columns: columns, ld: columns)
    }
    @inlinable public static func networkDense(
        _ x: UnsafePointer<Float>, ldx: Int, rows: Int, inputs: Int, outputs: Int, weight: UnsafePointer<Float>,
        bias: UnsafePointer<Float>?, relu: Bool, into y: UnsafeMutablePointer<Float>, ldy: Int
    ) {
        NetworkKernels.dense(x, ldx: ldx, rows: rows, inputs: inputs, outputs: outputs, weight: weight, bias: bias,
                             relu: relu, into: y, ldy: ldy)
    }
    @inlinable public static func networkLayerNorm(
        _ x: UnsafePointer<Float>, rows: Int, width: Int, gain: UnsafePointer<Float>, bias: UnsafePointer<Float>,
        epsilon: Float, into y: UnsafeMutablePointer<Float>
    ) {
        NetworkKernels.layerNorm(x, rows: rows, width: width, gain: gain, bias: bias, epsilon: epsilon, into: y)
    }
    @inlinable public static func networkLayerNormBackward(
        _ x: UnsafePointer<Float>, rows: Int, width: Int, dy: UnsafePointer<Float>, gain: UnsafePointer<Float>,
        epsilon: Float, gainGradient: UnsafeMutablePointer<Float>, biasGradient: UnsafeMutablePointer<Float>,
        dx: UnsafeMutablePointer<Float>, accumulate: Bool
    ) {
        NetworkKernels.layerNormBackward(x, rows: rows, width: width, dy: dy, gain: gain, epsilon: epsilon,
                                         gainGradient: gainGradient, biasGradient: biasGradient, dx: dx,
                                         accumulate: accumulate)
    }
    @inlinable public static func networkSoftmaxBackward(
        _ p: UnsafePointer<Float>, _ ds: UnsafeMutablePointer<Float>, rows: Int, columns: Int
    ) {
        NetworkKernels.softmaxBackward(p, ds, rows: rows, columns: columns)
    }
    @inlinable public static func networkReluBackward(_ pre: UnsafePointer<Float>, _ dy: UnsafeMutablePointer<Float>,
                                                      count: Int) {
        NetworkKernels.reluBackward(pre, dy, count: count)
    }
}

extension Double: NetworkScalar {
    @inlinable @inline(__always) public static func networkExp(_ x: Double) -> Double { exp(x) }
    @inlinable @inline(__always) public static func networkTanh(_ x: Double) -> Double { tanh(x) }
    @inlinable public static func networkSoftmaxRows(_ m: UnsafeMutablePointer<Double>, rows: Int, columns: Int) {
        softmaxRows(m, rows: rows, columns: columns)
    }
    @inlinable public static func networkDense(
        _ x: UnsafePointer<Double>, ldx: Int, rows: Int, inputs: Int, outputs: Int, weight: UnsafePointer<Double>,
        bias: UnsafePointer<Double>?, relu: Bool, into y: UnsafeMutablePointer<Double>, ldy: Int
    ) {
        if let bias { for r in 0..<rows { (y + r * ldy).update(from: bias, count: outputs) } }
        _gemm(false, false, rows, outputs, inputs, 1, x, ldx, weight, outputs, bias == nil ? 0 : 1, y, ldy)
        if relu { for r in 0..<rows { Activation.relu.apply(y + r * ldy, count: outputs) } }
    }
    @inlinable public static func networkLayerNorm(
        _ x: UnsafePointer<Double>, rows: Int, width: Int, gain: UnsafePointer<Double>, bias: UnsafePointer<Double>,
        epsilon: Double, into y: UnsafeMutablePointer<Double>
    ) {
        layerNormRows(x, rows: rows, width: width, gain: gain, bias: bias, epsilon: epsilon, into: y)
    }
    @inlinable public static func networkLayerNormBackward(
        _ x: UnsafePointer<Double>, rows: Int, width: Int, dy: UnsafePointer<Double>, gain: UnsafePointer<Double>,
        epsilon: Double, gainGradient: UnsafeMutablePointer<Double>, biasGradient: UnsafeMutablePointer<Double>,
        dx: UnsafeMutablePointer<Double>, accumulate: Bool
    ) {
        layerNormRowsBackward(x, rows: rows, width: width, dy: dy, gain: gain, epsilon: epsilon,
                              gainGradient: gainGradient, biasGradient: biasGradient, dx: dx, accumulate: accumulate)
    }
    @inlinable public static func networkSoftmaxBackward(
        _ p: UnsafePointer<Double>, _ ds: UnsafeMutablePointer<Double>, rows: Int, columns: Int
    ) {
        for i in 0..<rows {
            let pr = p + i * columns, dr = ds + i * columns
            var dot = 0.0
            for j in 0..<columns { dot += pr[j] * dr[j] }
            for j in 0..<columns { dr[j] = pr[j] * (dr[j] - dot) }
        }
    }
    @inlinable public static func networkReluBackward(_ pre: UnsafePointer<Double>, _ dy: UnsafeMutablePointer<Double>,
                                                      count: Int) {
        for i in 0..<count { dy[i] = pre[i] > 0 ? dy[i] : 0 }
    }
}

/// An array of `count` values left unwritten, for buffers that a product with β = 0 or a layer's forward pass
/// overwrites whole before anything reads them (a zero fill would be a wasted pass over memory).
@inlinable
func uninitializedBuffer<T: NetworkScalar>(_: T.Type, count: Int) -> [T] {
    [T](unsafeUninitializedCapacity: count) { _, initialized in initialized = count }
}
