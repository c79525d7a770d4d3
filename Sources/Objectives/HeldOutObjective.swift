/// Invalid input when building a ``HeldOutObjective``. The description names the field and what is valid.
public enum HeldOutObjectiveError: Error, Equatable, CustomStringConvertible, Sendable {
    /// No held-out function of that name; lists the valid names.
    case unknownFunction(String)
    /// The dimension is below 2 or above ``BenchmarkObjective/maximumDimension``.
    case invalidDimension(function: HeldOutFunction, dimension: Int)
    /// The offset has the wrong length or a non-finite value.
    case invalidOffset(ObjectiveError)

    public var description: String {
        switch self {
        case .unknownFunction(let name):
            "function: unknown held-out function '\(name)'; valid names: "
                + HeldOutFunction.names
        case .invalidDimension(let f, let d):
            "dimension: \(d) is not valid for \(f.rawValue); it must be an integer from 2 to "
                + "\(BenchmarkObjective.maximumDimension)"
        case .invalidOffset(let error):
            error.description
        }
    }
}

/// A held-out function at a fixed dimension, optionally shifted by an offset o: f_o(x) = f(x − o), exactly as
/// ``BenchmarkObjective`` shifts the training functions (the minimizer moves to x* + o, f* is unchanged, the domain
/// box moves along).
///
/// Hessian–vector products use the protocol's finite-difference fallback
/// (``Objective/finiteDifferenceHessianVectorProduct(at:direction:)``).
public struct HeldOutObjective: Objective, Hashable, Codable {
    /// Which function.
    public let function: HeldOutFunction
    /// Number of variables d.
    public let dimension: Int
    /// The shift o (length d), or nil for the unshifted function.
    public let offset: [Double]?

    /// A held-out objective; throws for a dimension outside 2…``BenchmarkObjective/maximumDimension`` or an offset
    /// of the wrong length or with non-finite values.
    public init(_ function: HeldOutFunction, dimension: Int, offset: [Double]? = nil) throws(HeldOutObjectiveError) {
        guard Self.accepts(function, dimension: dimension) else {
            throw .invalidDimension(function: function, dimension: dimension)
        }
        do throws(ObjectiveError) { try Self.validate(offset: offset, dimension: dimension) } catch {
            throw .invalidOffset(error)
        }
        self.function = function
        self.dimension = dimension
        self.offset = offset
    }

    /// Looks the function up by name (see ``HeldOutFunction/init(name:)``).
    public init(name: String, dimension: Int, offset: [Double]? = nil) throws(HeldOutObjectiveError) {
        guard let f = HeldOutFunction(name: name) else { throw .unknownFunction(name) }
        try self.init(f, dimension: dimension, offset: offset)
    }

    /// A global minimizer x* (+ offset), or nil where none is known in closed form.
    public var minimizer: [Double]? { function.minimizer(dimension: dimension).map(shifted) }
}
