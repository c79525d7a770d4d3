/// A multilayer perceptron applied to every row: Dense → activation → … → Dense (no activation on the output).
public struct MLP: Sendable, Equatable {
    public let layers: [Dense]
    public let activation: Activation

    /// `sizes = [inputs, hidden…, outputs]`; layers are named `name.0`, `name.1`, ….
    public init(_ name: String, sizes: [Int], activation: Activation = .relu, layout: inout ParameterLayout) {
        precondition(sizes.count >= 2, "MLP needs at least an input and an output size")
        var layers: [Dense] = []
        for l in 0..<(sizes.count - 1) {
            layers.append(Dense("\(name).\(l)", inputs: sizes[l], outputs: sizes[l + 1], layout: &layout))
        }
        self.layers = layers
        self.activation = activation
    }

    public var inputs: Int { layers[0].inputs }
    public var outputs: Int { layers[layers.count - 1].outputs }

    /// y[rows × outputs] for x[rows × inputs]. FLOPs: 2·rows·Σ inᵢ·outᵢ.
    @inlinable
    public func forward<T: NetworkScalar>(_ x: [T], rows: Int, parameters: UnsafePointer<T>) -> [T] {
        var current = x
        for (l, layer) in layers.enumerated() {
            let hidden = l < layers.count - 1
            current = [T](unsafeUninitializedCapacity: rows * layer.outputs) { n, count in
                current.withUnsafeBufferPointer { c in
                    // ReLU is fused into the product's last pass; other activations run after it.
                    layer.forward(c.baseAddress!, rows: rows, parameters: parameters, into: n.baseAddress!,
                                  relu: hidden && activation == .relu)
                    if hidden && activation != .relu { activation.apply(n.baseAddress!, count: rows * layer.outputs) }
                }
                count = rows * layer.outputs
            }
        }
        return current
    }

    /// Multiply-adds per row.
    public var flopsPerRow: Int { layers.reduce(0) { $0 + 2 * $1.inputs * $1.outputs } }
}
