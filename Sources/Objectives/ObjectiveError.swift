/// Invalid input when building an objective. The description names the field and what is valid.
public enum ObjectiveError: Error, Equatable, CustomStringConvertible, Sendable {
    /// No function of that name; lists the valid names.
    case unknownFunction(String)
    /// The dimension is not valid for the function.
    case invalidDimension(function: BenchmarkFunction, dimension: Int)
    /// A vector (offset, starting point) has the wrong length.
    case wrongLength(field: String, expected: Int, actual: Int)
    /// A vector contains NaN or an infinity.
    case nonFinite(field: String)

    public var description: String {
        switch self {
        case .unknownFunction(let name):
            "function: unknown name '\(name)'; valid names: "
                + BenchmarkFunction.names
        case .invalidDimension(let f, let d):
            "dimension: \(d) is not valid for \(f.rawValue); it must be \(f.validDimensions)"
                + (d > BenchmarkObjective.maximumDimension ? " and at most \(BenchmarkObjective.maximumDimension)" : "")
        case .wrongLength(let field, let expected, let actual):
            "\(field): has \(actual) values, expected \(expected) (the dimension)"
        case .nonFinite(let field):
            "\(field): contains NaN or an infinite value; every value must be finite"
        }
    }
}
