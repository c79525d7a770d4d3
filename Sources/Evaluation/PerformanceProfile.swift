/// Performance profiles on the normalized optimality gap, as in the paper's Section 5.1 (after Dolan & Moré 2002).
///
/// For problem p and solver s with reached value f̂ (best value within the budget, aggregated over starts):
///
///     m_{p,s} = (f̂_{p,s} − f*_p) / (f^w_p − f*_p),   r_{p,s} = m_{p,s} / min_{s'} m_{p,s'},
///     ρ_s(τ) = |{p : r_{p,s} ≤ τ}| / |P|.
///
/// Edge cases (`docs/test-functions.md`, *Performance profiles*, *Edge cases*):
/// - **f̂ = f* for several solvers** (exact minima): m is floored at ``Options/floor`` (1e−12), so every solver at or
///   below that gap ties at r = 1 instead of 0/0.
/// - **f̂ < f*** (a solver left the box on Schwefel or Michalewicz, where f* is defined on the box): f*_p is replaced
///   by min(f*_p, min_s f̂_{p,s}), Moré & Wild's f_L, so m ≥ 0.
/// - **f^w = f*** (every solver reached the same value, or the reference is already optimal): every solver with a
///   finite value gets r = 1.
/// - **Non-finite f̂** (divergence, no finite value ever): a failure, m = r = +∞; the problem never counts for s.
/// - **f^w**: ``WorstReference/worstFinal`` (the paper's "worst solution out of all methods", the largest finite f̂) or
///   ``WorstReference/initial`` (f(x₀), after Beiranvand et al.; m can then exceed 1).
public struct PerformanceProfile: Sendable, Equatable {
    public enum WorstReference: String, Sendable, Codable { case worstFinal, initial }

    public struct Options: Sendable, Equatable {
        /// Gaps m below this count as solved and tie (default 1e−12).
        public var floor: Double = 1e-12
        public var worst: WorstReference = .worstFinal
        public init(floor: Double = 1e-12, worst: WorstReference = .worstFinal) {
            self.floor = floor
            self.worst = worst
        }
    }

    public let solvers: [String]
    /// m[p][s] after the floor; +∞ for a failure.
    public let measures: [[Double]]
    /// r[p][s] ≥ 1; +∞ for a failure.
    public let ratios: [[Double]]

    /// - Parameters:
    ///   - values: f̂[p][s], one row per problem, one column per solver.
    ///   - fStar: the known minimum of each problem.
    ///   - initial: f(x₀) per problem (needed for ``WorstReference/initial``).
    public init(values: [[Double]], fStar: [Double], initial: [Double]? = nil, solvers: [String],
                options: Options = .init()) {
        precondition(values.count == fStar.count && values.allSatisfy { $0.count == solvers.count },
                     "PerformanceProfile: values must be problems × solvers")
        precondition(options.worst == .worstFinal || initial?.count == values.count,
                     "PerformanceProfile: the initial reference needs one f(x₀) per problem")
        self.solvers = solvers
        var measures: [[Double]] = []
        var ratios: [[Double]] = []
        for (p, row) in values.enumerated() {
            let finite = row.filter(\.isFinite)
            guard let best = finite.min(), let worstFinal = finite.max() else {
                measures.append(row.map { _ in .infinity })
                ratios.append(row.map { _ in .infinity })
                continue
            }
            let lower = Swift.min(fStar[p], best)
            let worst = options.worst == .worstFinal ? worstFinal : initial![p]
            let span = worst - lower
            let m: [Double] = row.map { f in
                guard f.isFinite else { return .infinity }
                guard span > 0, span.isFinite else { return options.floor }  // f^w = f*: everyone finite ties
                return Swift.max((f - lower) / span, options.floor)
            }
            let smallest = m.filter(\.isFinite).min()!
            measures.append(m)
            ratios.append(m.map { $0.isFinite ? $0 / smallest : .infinity })
        }
        self.measures = measures
        self.ratios = ratios
    }

    /// ρ_s(τ): the fraction of problems where solver `s` is within a factor τ of the best.
    public func fraction(solver s: Int, within tau: Double) -> Double {
        guard !ratios.isEmpty else { return 0 }
        return Double(ratios.filter { $0[s] <= tau }.count) / Double(ratios.count)
    }

    /// The finite ratios of all solvers, sorted and unique: the points where some ρ_s jumps.
    public var breakpoints: [Double] {
        Array(Set(ratios.flatMap { $0 }.filter(\.isFinite))).sorted()
    }

    /// ρ_s as a step function: (τ, ρ_s(τ)) at 1 and at every breakpoint up to `maxTau`.
    public func curve(solver s: Int, maxTau: Double) -> [(tau: Double, rho: Double)] {
        var points: [(Double, Double)] = [(1, fraction(solver: s, within: 1))]
        for b in breakpoints where b > 1 && b <= maxTau { points.append((b, fraction(solver: s, within: b))) }
        points.append((maxTau, fraction(solver: s, within: maxTau)))
        return points
    }

    /// Whether solver `a`'s profile is at least solver `b`'s at every τ (checked at every breakpoint, where the step
    /// functions change), and the fraction of breakpoints ≥ 1 where it is strictly above.
    public func dominance(_ a: Int, over b: Int) -> (everywhere: Bool, strictlyAboveFraction: Double) {
        let taus = [1] + breakpoints.filter { $0 > 1 }
        var everywhere = true
        var above = 0
        for t in taus {
            let fa = fraction(solver: a, within: t), fb = fraction(solver: b, within: t)
            if fa < fb { everywhere = false }
            if fa > fb { above += 1 }
        }
        return (everywhere, Double(above) / Double(taus.count))
    }
}

/// The paper's Fig. 4: iterations a candidate (Optimus) needs to reach the value a baseline reaches on average after
/// the full budget, relative to the iterations the baseline itself needs.
///
/// With B_k and C_k the mean best-so-far values over starts after k iterations (same starts for both), the target is
/// T = B_K (K the budget); k_B = min{k : B_k ≤ T} and k_C = min{k : C_k ≤ T}. The ratio is k_B / k_C: above 1 the
/// candidate needed fewer iterations. When T is not below the mean start value both need 0 iterations (ratio 1);
/// when the candidate never reaches T within the budget the ratio is nil (reported as "not reached").
public struct IterationRatio: Sendable, Equatable, Codable {
    public var problem: String
    public var target: Double
    public var baselineIterations: Int
    public var candidateIterations: Int?
    public var ratio: Double? {
        guard let c = candidateIterations else { return nil }
        if baselineIterations == 0 { return 1 }
        return Double(baselineIterations) / Double(Swift.max(c, 1))
    }

    public init(problem: String, baseline: [Double], candidate: [Double]) {
        self.problem = problem
        let target = baseline.last ?? .nan
        self.target = target
        func first(_ trace: [Double]) -> Int? { trace.firstIndex { $0 <= target } }
        baselineIterations = first(baseline) ?? baseline.count
        candidateIterations = target.isNaN ? nil : first(candidate)
    }

    public init(problem: String, target: Double, baselineIterations: Int, candidateIterations: Int?) {
        self.problem = problem
        self.target = target
        self.baselineIterations = baselineIterations
        self.candidateIterations = candidateIterations
    }
}
