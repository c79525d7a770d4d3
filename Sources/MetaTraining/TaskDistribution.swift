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

/// The meta-loss normalizer: makes per-step losses of functions with wildly different scales comparable.
///
///     ℓ_t = clip( log₁₀( (max(f(x_t) − f*, 0) + ε) / (f(x₀) − f* + ε) ),  [−12, 2] ),   ε = 1e−12·(f(x₀) − f*) + 1e−300
///
/// i.e. decades of progress relative to the start: 0 at the start, −1 per decade gained, at most +2 (a run that
/// made things 100× worse, or NaN/∞, gets the clip value 2). Michalewicz and Schwefel can go below their on-box f*
/// off the box; max(·, 0) counts that as reaching f*. Scale-free, so Trid (f ~ 1e8) and Ackley (f ~ 20) weigh the
/// same; clipped, so one diverging task cannot dominate the PES estimate.
public struct MetaLossNormalizer: Codable, Equatable, Sendable {
    public var lowerClip: Double = -12
    public var upperClip: Double = 2
    public init() {}

    public func loss(value f: Double, start f0: Double, fStar: Double) -> Double {
        guard f.isFinite else { return upperClip }
        let initial = max(f0 - fStar, 0)
        let eps = 1e-12 * initial + 1e-300
        let r = log10((max(f - fStar, 0) + eps) / (initial + eps))
        return min(max(r, lowerClip), upperClip)
    }

    /// ``loss(value:start:fStar:)`` and its derivative in f: 1/((f − f* + ε)·ln 10) inside the clip range and
    /// above f*, 0 where the loss is clipped, f < f* or f is not finite.
    public func lossAndDerivative(value f: Double, start f0: Double, fStar: Double) -> (loss: Double, derivative: Double) {
        guard f.isFinite else { return (upperClip, 0) }
        let initial = max(f0 - fStar, 0)
        let eps = 1e-12 * initial + 1e-300
        let gap = f - fStar
        let r = log10((max(gap, 0) + eps) / (initial + eps))
        guard r > lowerClip, r < upperClip, gap > 0 else { return (min(max(r, lowerClip), upperClip), 0) }
        return (r, 1 / ((gap + eps) * 2.302_585_092_994_046))
    }
}

/// Invalid meta-training configuration or state.
public enum MetaTrainingError: Error, Equatable, CustomStringConvertible, Sendable {
    case invalid(String, String)
    case state(String)
    public var description: String {
        switch self {
        case .invalid(let field, let message): "\(field): \(message)"
        case .state(let message): "training state: \(message)"
        }
    }
}
