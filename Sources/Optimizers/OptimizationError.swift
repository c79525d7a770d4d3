/// Invalid configuration or input to a minimization. The description names the field and what is valid.
public enum OptimizationError: Error, Equatable, CustomStringConvertible, Sendable {
    /// A numeric option is outside its valid range.
    case invalidOption(field: String, value: String, valid: String)
    /// The starting point has the wrong length.
    case wrongLength(field: String, expected: Int, actual: Int)
    /// The starting point contains NaN or an infinity.
    case nonFiniteStart(field: String)
    /// An empty starting point.
    case emptyStart
    /// No optimizer of that name.
    case unknownOptimizer(String, valid: [String])
    /// A run would need more memory than the budget (``MemoryBudget``).
    case overMemoryBudget(optimizer: String, dimension: Int, needed: Int, budget: Int)

    public var description: String {
        switch self {
        case .invalidOption(let field, let value, let valid):
            "\(field): \(value) is not valid; it must be \(valid)"
        case .wrongLength(let field, let expected, let actual):
            "\(field): has \(actual) values, expected \(expected)"
        case .nonFiniteStart(let field):
            "\(field): contains NaN or an infinite value; every value must be finite"
        case .emptyStart:
            "x0: is empty; a starting point needs at least one value"
        case .unknownOptimizer(let name, let valid):
            "optimizer: unknown name '\(name)'; valid names: \(valid.joined(separator: ", "))"
        case .overMemoryBudget(let name, let d, let needed, let budget):
            "dimension: \(name) at d = \(d) would need about \(MemoryBudget.format(needed)), more than the memory budget "
                + "of \(MemoryBudget.format(budget)) (default: a quarter of physical memory; --memory-budget changes it). "
                + "L-BFGS (about \(MemoryBudget.format(LBFGS().memoryBytes(dimension: d))) here) and Adafactor-MLP need "
                + "memory linear in d; BFGS and Optimus need d²"
        }
    }
}

/// Throws ``OptimizationError/invalidOption(field:value:valid:)`` unless `condition` holds.
@inlinable
func require(_ condition: Bool, _ field: String, _ value: some CustomStringConvertible, _ valid: String)
    throws(OptimizationError)
{
    if !condition { throw .invalidOption(field: field, value: value.description, valid: valid) }
}
