import MetaTraining
import Objectives
import OptimusNumerics

/// A task: one benchmark function at one dimension with a random offset and a random start, fully described by a
/// Codable spec, so sampled tasks can be logged and replayed (sampling is separate from building).
public struct TaskSpec: Codable, Hashable, Sendable {
    public var function: BenchmarkFunction
    public var dimension: Int
    /// Seed of the offset o (x* moves to x* + o; f* is unchanged).
    public var offsetSeed: UInt64
    /// Seed of the start x₀ (uniform in the shifted domain).
    public var startSeed: UInt64
    /// Offsets are uniform in ±`offsetFraction`·(domain width) per coordinate.
    public var offsetFraction: Double

    /// The objective and the start.
    public func build() -> (objective: BenchmarkObjective, start: [Double]) {
        let width = function.domain(dimension: dimension).upperBound - function.domain(dimension: dimension).lowerBound
        var g = Xoshiro256StarStar(seed: offsetSeed)
        let offset = (0..<dimension).map { _ in g.uniform(-offsetFraction, offsetFraction) * width }
        // Valid by construction: the function accepts the dimension and the offset is finite with the right length.
        guard let objective = try? BenchmarkObjective(function, dimension: dimension, offset: offset) else {
            preconditionFailure("TaskSpec: invalid task \(self)")
        }
        var s = Xoshiro256StarStar(seed: startSeed)
        return (objective, objective.randomStart(using: &s))
    }
}

/// The training distribution of the paper's Section 5.1: the 15 functions, dimension log-uniform in
/// [`minimumDimension`, `maximumDimension`] (default 2…100), random offsets, random starts in the (shifted) domain.
public struct TaskDistribution: Codable, Equatable, Sendable {
    public var functions: [BenchmarkFunction]
    public var minimumDimension: Int
    public var maximumDimension: Int
    public var offsetFraction: Double

    public init(functions: [BenchmarkFunction] = BenchmarkFunction.paperSuite, minimumDimension: Int = 2,
                maximumDimension: Int = 100, offsetFraction: Double = 0.1) {
        self.functions = functions
        self.minimumDimension = minimumDimension
        self.maximumDimension = maximumDimension
        self.offsetFraction = offsetFraction
    }

    /// Errors name the field.
    public func validate() throws(MetaTrainingError) {
        guard !functions.isEmpty else { throw .invalid("tasks.functions", "must list at least one function") }
        guard minimumDimension >= 2, maximumDimension >= minimumDimension, maximumDimension <= 4096 else {
            throw .invalid("tasks.minimumDimension/maximumDimension", "need 2 ≤ minimum ≤ maximum ≤ 4096")
        }
        guard offsetFraction >= 0, offsetFraction <= 1 else { throw .invalid("tasks.offsetFraction", "must be in [0, 1]") }
        if functions.contains(.powell) { throw .invalid("tasks.functions", "powell needs d % 4 == 0; leave it out") }
    }

    /// A task; dimension log-uniform: d = floor(exp(U(ln min, ln (max + 1)))), clamped to [min, max].
    public func sample(using g: inout Xoshiro256StarStar) -> TaskSpec {
        let f = functions[g.nextInt(below: functions.count)]
        let u = g.uniform(log(Double(minimumDimension)), log(Double(maximumDimension) + 1))
        let d = min(max(Int(exp(u)), minimumDimension), maximumDimension)
        return TaskSpec(function: f, dimension: d, offsetSeed: g.next(), startSeed: g.next(),
                        offsetFraction: offsetFraction)
    }
}

/// The benchmark tasks as a ``MetaTraining/TrainingTaskFamily``: f* is the function's known minimum (an offset moves
/// x*, not f*).
extension TaskDistribution: TrainingTaskFamily {
    public func build(_ spec: TaskSpec) -> (objective: any Objective, start: [Double], fStar: Double) {
        let (objective, x0) = spec.build()
        return (objective, x0, objective.fStar)
    }
}
