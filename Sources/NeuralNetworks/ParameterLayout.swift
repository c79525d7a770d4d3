/// Where one named tensor lives inside a flat parameter buffer.
public struct TensorSpec: Codable, Sendable, Equatable, Hashable {
    /// Name, e.g. `"encoder.0.attention.qkv.weight"`.
    public var name: String
    /// Shape, row-major (a weight of a y = x·W layer is `[inputs, outputs]`).
    public var shape: [Int]
    /// Index of the first element in the flat buffer.
    public var offset: Int
    /// Number of elements (the product of the shape).
    public var count: Int { shape.reduce(1, *) }
    /// Its indices in the flat buffer, `offset..<(offset + count)`.
    public var range: Range<Int> { offset..<(offset + count) }
}

/// The named tensors of a model laid out one after another in a single `[Float]` buffer.
///
/// A learned optimizer's meta-parameters θ are one flat vector (what PES perturbs and Adam updates); the layout gives
/// every slice a name and a shape, for the network code, for checkpoints and for people.
public struct ParameterLayout: Codable, Sendable, Equatable {
    /// The tensors in buffer order.
    public private(set) var tensors: [TensorSpec] = []
    /// Total number of scalars.
    public private(set) var count = 0

    public init() {}

    /// Appends a tensor and returns its spec. Names must be unique.
    @discardableResult
    public mutating func add(_ name: String, shape: [Int]) -> TensorSpec {
        precondition(!tensors.contains { $0.name == name }, "ParameterLayout: duplicate tensor name \(name)")
        precondition(shape.allSatisfy { $0 > 0 }, "ParameterLayout: \(name) has an empty dimension \(shape)")
        let spec = TensorSpec(name: name, shape: shape, offset: count)
        tensors.append(spec)
        count += spec.count
        return spec
    }

    /// The tensor called `name`.
    public subscript(name: String) -> TensorSpec? { tensors.first { $0.name == name } }
}
