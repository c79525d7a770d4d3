import OptimusNumerics

/// A curvature model for a line-search descent method: it turns a gradient into a search direction and learns from
/// the step s = x_{k+1} − x_k and gradient change y = g_{k+1} − g_k.
///
/// ``BFGS`` uses a dense inverse Hessian, ``LBFGS`` the two-loop recursion over the last m pairs.
public protocol CurvatureModel: Sendable {
    /// The search direction d = −H·g.
    func direction(for gradient: [Double]) -> [Double]
    /// Learns from a step; returns false (and leaves the model unchanged) when the pair is skipped because the
    /// curvature yᵀs is not safely positive.
    mutating func update(step s: [Double], gradientChange y: [Double]) -> Bool
    /// Forgets all curvature (H = I).
    mutating func reset()
    /// True while the model is the identity (no pair accepted since the last reset).
    var isIdentity: Bool { get }
}

/// Whether a curvature pair is safe to use: yᵀs > √ε·‖s‖·‖y‖ and everything finite.
@inlinable
func acceptableCurvature(_ sy: Double, _ s: [Double], _ y: [Double]) -> Bool {
    sy.isFinite && sy > 1.4901161193847656e-8 * s.norm * y.norm
}

/// The state of a quasi-Newton run (shared by ``BFGS`` and ``LBFGS``).
public struct QuasiNewtonState<Model: CurvatureModel>: OptimizerState {
    public internal(set) var point: [Double]
    public internal(set) var iterate: [Double]
    public internal(set) var iterateValue: Double = .nan
    public internal(set) var iterateGradient: [Double] = []
    /// The curvature model (inverse-Hessian approximation).
    public internal(set) var model: Model
    /// The current search direction.
    public internal(set) var direction: [Double] = []
    /// Whether the current direction is steepest descent (after a start or a reset).
    public internal(set) var isSteepestDescent = true
    var lineSearch: LineSearchMethod.State?
    /// Value and gradient at the line search's best step with sufficient decrease in the current search.
    var cachedTrial: (step: Double, value: Double, gradient: [Double])?
}

/// The line-search descent loop shared by BFGS and L-BFGS: direction from the curvature model, a line search along
/// it, a curvature update, and a reset to steepest descent whenever the direction is not a descent direction or the
/// line search fails along a quasi-Newton direction.
///
/// First step along steepest descent: α₀ = min(1, 1/‖g‖₂) (a unit-length step); along quasi-Newton directions α₀ = 1.
enum QuasiNewtonEngine {
    static func update<Model>(
        _ s: inout QuasiNewtonState<Model>, value: Double, gradient: [Double], lineSearch: LineSearchMethod
    ) -> OptimizerEvent {
        guard var ls = s.lineSearch else {
            // x₀.
            guard value.isFinite else { return .stopped(.nonFiniteObjective) }
            s.iterateValue = value
            s.iterateGradient = gradient
            return beginIteration(&s, lineSearch: lineSearch)
        }
        let alpha = ls.step
        let dphi = value.isFinite ? gradient.dot(s.direction) : .nan
        let outcome = lineSearch.update(&ls, phi: value, derivative: dphi)
        s.lineSearch = ls
        if ls.bestSufficientStep == alpha {
            s.cachedTrial = (alpha, value, gradient)
        }
        switch outcome {
        case .evaluate:
            s.point = trialPoint(s, ls.step)
            return .evaluate
        case .failed:
            if s.isSteepestDescent {
                return .stopped(.lineSearchFailed)
            }
            s.model.reset()
            return beginIteration(&s, lineSearch: lineSearch, accepted: false)
        case .done(let step):
            let (newValue, newGradient): (Double, [Double])
            if step == alpha && value.isFinite {
                (newValue, newGradient) = (value, gradient)
            } else if let c = s.cachedTrial, c.step == step {
                (newValue, newGradient) = (c.value, c.gradient)
            } else {
                preconditionFailure("line search accepted a step that was not the best evaluated one")
            }
            let newX = trialPoint(s, step)
            var sVec = s.direction
            BLAS.scale(step, &sVec)
            let yVec = newGradient.subtracting(s.iterateGradient)
            _ = s.model.update(step: sVec, gradientChange: yVec)
            s.iterate = newX
            s.iterateValue = newValue
            s.iterateGradient = newGradient
            return beginIteration(&s, lineSearch: lineSearch)
        }
    }

    /// Chooses the direction at the current iterate and starts the line search. Returns `.accepted` (the iterate
    /// was just accepted) unless `accepted` is false (a restart after a failed search from the same iterate).
    private static func beginIteration<Model>(
        _ s: inout QuasiNewtonState<Model>, lineSearch: LineSearchMethod, accepted: Bool = true
    ) -> OptimizerEvent {
        let g = s.iterateGradient
        var d = s.model.direction(for: g)
        var slope = d.dot(g)
        s.isSteepestDescent = s.model.isIdentity
        if !(slope < 0) || !d.isFinite {
            s.model.reset()
            d = g.scaled(by: -1)
            slope = d.dot(g)
            s.isSteepestDescent = true
        }
        guard slope < 0 else {
            // g = 0 exactly: x is stationary.
            s.lineSearch = nil
            s.point = s.iterate
            return .stopped(.gradientTolerance)
        }
        let alpha0 = s.isSteepestDescent ? min(1, 1 / g.norm) : 1
        s.direction = d
        s.cachedTrial = nil
        let ls = lineSearch.start(value0: s.iterateValue, derivative0: slope, initialStep: alpha0)
        s.lineSearch = ls
        s.point = trialPoint(s, ls.step)
        return accepted ? .accepted : .evaluate
    }

    @inline(__always)
    private static func trialPoint<Model>(_ s: QuasiNewtonState<Model>, _ alpha: Double) -> [Double] {
        s.iterate.adding(s.direction, scaledBy: alpha)
    }
}
