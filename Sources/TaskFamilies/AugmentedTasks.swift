import MetaTraining
import Objectives
import OptimusNumerics

/// A task of the augmented training distribution: a benchmark task or a conditioned quadratic, optionally rotated,
/// stretched and rescaled (``AffineObjective``). Codable and replayable like ``TaskSpec``.
public struct AugmentedTaskSpec: Codable, Hashable, Sendable {
    public enum Base: Codable, Hashable, Sendable {
        /// One of the benchmark functions with its offset and start.
        case benchmark(TaskSpec)
        /// f(y) = ½·Σ λ_i (y_i − m_i)² with λ_i = κ^(−i/(d−1)) (i = 0…d−1), m and the start drawn from `seed`.
        case quadratic(dimension: Int, conditionNumber: Double, seed: UInt64)

        // Coded as a record with a kind and optional fields rather than Swift's synthesized single-key form: the
        // training state's keyless ``BinaryCoder`` cannot tell which key a synthesized enum container holds.
        private enum CodingKeys: String, CodingKey { case kind, task, dimension, conditionNumber, seed }

        public func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            switch self {
            case .benchmark(let task):
                try c.encode("benchmark", forKey: .kind)
                try c.encodeIfPresent(task, forKey: .task)
                try c.encodeIfPresent(Int?.none, forKey: .dimension)
                try c.encodeIfPresent(Double?.none, forKey: .conditionNumber)
                try c.encodeIfPresent(UInt64?.none, forKey: .seed)
            case .quadratic(let d, let kappa, let seed):
                try c.encode("quadratic", forKey: .kind)
                try c.encodeIfPresent(TaskSpec?.none, forKey: .task)
                try c.encodeIfPresent(d, forKey: .dimension)
                try c.encodeIfPresent(kappa, forKey: .conditionNumber)
                try c.encodeIfPresent(seed, forKey: .seed)
            }
        }

        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            let kind = try c.decode(String.self, forKey: .kind)
            let task = try c.decodeIfPresent(TaskSpec.self, forKey: .task)
            let d = try c.decodeIfPresent(Int.self, forKey: .dimension)
            let kappa = try c.decodeIfPresent(Double.self, forKey: .conditionNumber)
            let seed = try c.decodeIfPresent(UInt64.self, forKey: .seed)
            switch kind {
            case "benchmark":
                guard let task else { throw DecodingError.dataCorruptedError(forKey: .task, in: c, debugDescription: "a benchmark task needs its task") }
                self = .benchmark(task)
            case "quadratic":
                guard let d, let kappa, let seed else {
                    throw DecodingError.dataCorruptedError(forKey: .dimension, in: c,
                                                           debugDescription: "a quadratic needs dimension, conditionNumber and seed")
                }
                self = .quadratic(dimension: d, conditionNumber: kappa, seed: seed)
            default:
                throw DecodingError.dataCorruptedError(forKey: .kind, in: c, debugDescription: "unknown task kind '\(kind)'")
            }
        }
    }

    public var base: Base
    /// Seed of the random rotation Q; nil: no rotation.
    public var rotationSeed: UInt64?
    /// κ of the stretch S_i = κ^(−i/(2(d−1))) applied to a benchmark function (1: none). Quadratics carry their κ.
    public var stretch: Double
    /// σ: the minimizer and the domain scale by σ.
    public var parameterScale: Double
    /// a: f and f* scale by a.
    public var objectiveScale: Double

    public var dimension: Int {
        switch base {
        case .benchmark(let t): t.dimension
        case .quadratic(let d, _, _): d
        }
    }

    /// The objective, its start and its minimum value.
    public func build() -> (objective: AffineObjective, start: [Double], fStar: Double) {
        let d = dimension
        let rotation = rotationSeed.map { seed -> Matrix<Double> in
            var g = Xoshiro256StarStar(seed: seed)
            return .randomOrthogonal(d, using: &g)
        }
        switch base {
        case .benchmark(let task):
            let (objective, y0) = task.build()
            let r = task.function.domain(dimension: d)
            let center = (0..<d).map { (r.lowerBound + r.upperBound) / 2 + (objective.offset?[$0] ?? 0) }
            let s: [Double]? = stretch > 1 ? (0..<d).map { pow(stretch, -Double($0) / Double(2 * max(1, d - 1))) } : nil
            let f = AffineObjective(base: objective, center: center, rotation: rotation, stretch: s,
                                    parameterScale: parameterScale, objectiveScale: objectiveScale)
            return (f, f.preimage(y0), objectiveScale * objective.fStar)
        case .quadratic(_, let kappa, let seed):
            var g = Xoshiro256StarStar(seed: seed)
            let curvatures = (0..<d).map { pow(kappa, -Double($0) / Double(max(1, d - 1))) }
            let minimizer = g.uniform(-1, 1, count: d)
            let y0 = g.uniform(-3, 3, count: d)
            let f = AffineObjective(base: DiagonalQuadratic(curvatures: curvatures, minimizer: minimizer),
                                    center: [Double](repeating: 0, count: d), rotation: rotation,
                                    parameterScale: parameterScale, objectiveScale: objectiveScale)
            return (f, f.preimage(y0), 0)
        }
    }
}

/// The augmented training distribution (issue 15): the benchmark tasks of ``TaskDistribution`` plus what teaches a
/// learned optimizer curvature and scale.
///
/// Per task, in this order from the task stream: with probability `quadraticProbability` a conditioned quadratic
/// (dimension as the benchmark tasks', κ log-uniform in [1, `maximumConditionNumber`]) instead of a benchmark task;
/// with probability `rotationProbability` a random rotation Q (Haar); for a benchmark task, with probability
/// `stretchProbability` a stretch with κ log-uniform in [1, `maximumConditionNumber`]; the parameter scale
/// σ = 10^U(−D_p, D_p) and the objective scale a = 10^U(−D_a, D_a) with D_p = `parameterScaleDecades`,
/// D_a = `objectiveScaleDecades`. Every draw is made whatever the outcome, so the stream does not depend on the
/// probabilities' outcomes. The meta-loss normalizer is relative to the start and to f*, so tasks of any scale weigh
/// alike.
public struct AugmentedTaskDistribution: Codable, Equatable, Sendable, TrainingTaskFamily {
    public var base = TaskDistribution()
    public var quadraticProbability = 0.2
    public var rotationProbability = 0.5
    public var stretchProbability = 0.3
    public var maximumConditionNumber = 1e6
    public var parameterScaleDecades = 2.0
    public var objectiveScaleDecades = 3.0

    public init() {}

    public func validate() throws(MetaTrainingError) {
        try base.validate()
        for (name, p) in [("quadraticProbability", quadraticProbability), ("rotationProbability", rotationProbability),
                          ("stretchProbability", stretchProbability)] {
            guard p >= 0, p <= 1 else { throw .invalid("augmentedTasks.\(name)", "must be in [0, 1]") }
        }
        guard maximumConditionNumber >= 1, maximumConditionNumber <= 1e12 else {
            throw .invalid("augmentedTasks.maximumConditionNumber", "must be in [1, 1e12]")
        }
        for (name, v) in [("parameterScaleDecades", parameterScaleDecades), ("objectiveScaleDecades", objectiveScaleDecades)] {
            guard v >= 0, v <= 12 else { throw .invalid("augmentedTasks.\(name)", "must be in [0, 12]") }
        }
    }

    public func sample(using g: inout Xoshiro256StarStar) -> AugmentedTaskSpec {
        let task = base.sample(using: &g)
        let quadratic = g.nextUnit() < quadraticProbability
        let quadraticSeed = g.next()
        let kappa = pow(10, g.uniform(0, log10(maximumConditionNumber)))
        let rotated = g.nextUnit() < rotationProbability
        let rotationSeed = g.next()
        let stretched = g.nextUnit() < stretchProbability
        let stretchKappa = pow(10, g.uniform(0, log10(maximumConditionNumber)))
        let sigma = pow(10, g.uniform(-parameterScaleDecades, parameterScaleDecades))
        let a = pow(10, g.uniform(-objectiveScaleDecades, objectiveScaleDecades))
        let base: AugmentedTaskSpec.Base = quadratic
            ? .quadratic(dimension: task.dimension, conditionNumber: kappa, seed: quadraticSeed) : .benchmark(task)
        return AugmentedTaskSpec(base: base, rotationSeed: rotated ? rotationSeed : nil,
                                 stretch: !quadratic && stretched ? stretchKappa : 1, parameterScale: sigma,
                                 objectiveScale: a)
    }

    public func build(_ spec: AugmentedTaskSpec) -> (objective: any Objective, start: [Double], fStar: Double) {
        let (f, x0, fStar) = spec.build()
        return (f, x0, fStar)
    }
}
