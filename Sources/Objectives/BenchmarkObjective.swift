import OptimusNumerics

/// A benchmark function at a fixed dimension, optionally shifted by a random offset.
///
/// With offset o the objective is f_o(x) = f(x − o): the minimizer moves to x* + o, f* is unchanged, and the domain
/// moves with it (`[lo + oᵢ, hi + oᵢ]` per coordinate), so Michalewicz's and Schwefel's on-box f* stay valid.
/// This is the paper's "random offsets" for training distributions (Section 5.1).
public struct BenchmarkObjective: Objective, Hashable, Codable {
    /// The largest dimension accepted (a dense d×d BFGS matrix at this size takes 8 GiB).
    public static let maximumDimension = 32_768

    /// Which function.
    public let function: BenchmarkFunction
    /// Number of variables d.
    public let dimension: Int
    /// The shift o (length d), or nil for the unshifted function.
    public let offset: [Double]?

    /// A benchmark objective; throws ``ObjectiveError`` for an invalid dimension or offset.
    public init(_ function: BenchmarkFunction, dimension: Int, offset: [Double]? = nil) throws(ObjectiveError) {
        guard Self.accepts(function, dimension: dimension) else {
            throw .invalidDimension(function: function, dimension: dimension)
        }
        try Self.validate(offset: offset, dimension: dimension)
        self.function = function
        self.dimension = dimension
        self.offset = offset
    }

    /// Looks the function up by name (see ``BenchmarkFunction/init(name:)``).
    public init(name: String, dimension: Int, offset: [Double]? = nil) throws(ObjectiveError) {
        guard let f = BenchmarkFunction(name: name) else { throw .unknownFunction(name) }
        try self.init(f, dimension: dimension, offset: offset)
    }

    /// A global minimizer x* (+ offset).
    public var minimizer: [Double] { shifted(function.minimizer(dimension: dimension)) }
}
