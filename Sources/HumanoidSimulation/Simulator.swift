import _Differentiation
import OptimusNumerics

/// A humanoid simulator in reduced coordinates (`docs/physics-motion.md`, *Dynamics*): Featherstone's articulated-body
/// algorithm, stable-PD control toward target poses (implicit damping folded into the joint armature), smooth penalty
/// ground contact with regularized Coulomb friction, semi-implicit Euler at a fixed step (default 1/480 s), Double
/// precision. The dynamics are written once over ``ADScalar``, so the same code gives values, exact forward tangents
/// (``Dual``) and the step's exact adjoint (``TapeScalar``). RK4 is available for accuracy tests of the dynamics.
public struct Simulator: Sendable {
    public enum Integrator: String, Sendable, Codable { case semiImplicitEuler, rungeKutta4 }

    public struct Configuration: Equatable, Sendable {
        public var timeStep: Double = 1.0 / 480
        public var gravity = Vec3(0, -9.81, 0)
        public var contact = true
        public var control = true
        public var integrator: Integrator = .semiImplicitEuler
        /// Normal stiffness per contact point (N/m).
        public var contactStiffness = 3e4
        /// Hunt–Crossley damping: the normal force is s·(k − c·v_n)₊ for a penetration s (N·s/m²).
        public var contactDamping = 6e4
        /// Width of the softplus that smooths the penetration (m); also the force's range above the ground.
        public var contactSmoothing = 1e-3
        public var friction = 0.9
        /// Regularization speed ε of the friction cone (m/s): f_t = −μ·f_n·v_t/√(|v_t|² + ε²). Below ε friction is a
        /// damper of slope μ·f_n/ε, which the step treats explicitly: it is stable only while dt·μ·f_n/(ε·m) < 2 for
        /// the mass m a contact point moves. At 0.01 m/s (the value before 2026-11-30, and the physics notes'
        /// suggestion) a standing humanoid's loaded feet chatter at dt = 1/480 s: their tangential velocity flips sign
        /// on most steps (``ContactChatterTests``), which makes every rollout non-smooth in its controls. 1 m/s
        /// reconstructs best of {0.01, 0.03, 0.1, 0.3, 1, 3} on the clips used for choices (walker/0walk_forward and
        /// dance_b, L-BFGS, seeds 0 and 1; HumanMotion article "Reconstruction choices"), with the least foot skate.
        public var frictionSmoothing = 1.0
        /// Residual force control (an ablation; off by default): the control u carries 6 more numbers, a torque and a
        /// force applied to the root in its body frame, in units of the body weight m·g (N·m per metre for the
        /// torque). Not physically plausible — an external "hand" on the pelvis — but it lets an optimizer keep
        /// balance that joint torques alone cannot; reconstructions report its mean magnitude.
        public var rootResidual = false
        public init() {}
    }

    public let humanoid: Humanoid
    public var configuration: Configuration {
        didSet {
            if configuration.rootResidual != oldValue.rootResidual {
                layout = StateLayout(humanoid, rootResidual: configuration.rootResidual)
            }
        }
    }
    public private(set) var layout: StateLayout
    /// Rigid-body inertias at the body origins.
    let inertias: [SpatialInertia]
    /// Contact candidates: (body, point in body frame, radius); radius 0 for box corners.
    package let contactPoints: [(body: Int, point: Vec3, radius: Double)]

    public init(humanoid: Humanoid, configuration: Configuration = .init()) {
        self.humanoid = humanoid
        self.configuration = configuration
        layout = StateLayout(humanoid, rootResidual: configuration.rootResidual)
        inertias = humanoid.bodies.map { SpatialInertia(mass: $0.mass, centerOfMass: $0.centerOfMass, inertia: $0.inertia) }
        contactPoints = Self.contactCandidates(humanoid)
    }

    public var contactPointCount: Int { contactPoints.count }

    // MARK: Public stepping

    /// One step of `timeStep` toward `target` (nil: passive).
    public func step(_ s: SimulationState, target: Pose?) -> SimulationState {
        let x = flatten(s)
        let u = target.map(flattenTarget)
        switch configuration.integrator {
        case .semiImplicitEuler: return unflatten(step(x, target: u))
        case .rungeKutta4: return unflatten(rk4(x, target: u))
        }
    }

    /// One semi-implicit Euler step of a flat state x = (q, v) toward a flat target u (nil: passive), whatever
    /// ``Configuration-swift.struct/integrator`` says: the step that ``stepAdjoint(_:target:cotangent:tape:)`` and
    /// ``stepTangent(_:target:dx:du:)`` differentiate. Not generic, so that callers in other modules run the `Double`
    /// specialization of the dynamics.
    public func step(_ x: [Double], target u: [Double]?) -> [Double] { semiImplicitEuler(x, target: u) }

    /// World keypoints (``Humanoid/keypointNames``) of a flat state.
    public func keypoints(_ x: [Double]) -> [Vec3] {
        let k: Kinematics<Double> = kinematics(x)
        return keypoints(x, kinematics: k).map(\.plain)
    }

    // MARK: Diagnostics

    /// Linear and angular momentum (about the world origin) and kinetic energy, in world coordinates.
    public func momentum(_ s: SimulationState) -> (linear: Vec3, angular: Vec3, kineticEnergy: Double) {
        let k: Kinematics<Double> = kinematics(flatten(s))
        var p = Vec3.zero, l = Vec3.zero, e = 0.0
        for i in humanoid.bodies.indices {
            let h = SI<Double>(inertias[i]) * k.velocity[i]
            let linear = (k.rotation[i] * h.linear).plain
            p += linear
            l += (k.rotation[i] * h.angular).plain + cross(k.position[i].plain, linear)
            e += 0.5 * k.velocity[i].dot(h)
        }
        return (p, l, e)
    }

    /// Potential energy of gravity.
    public func potentialEnergy(_ s: SimulationState) -> Double {
        let frames = humanoid.frames(s.pose)
        var u = 0.0
        for (i, b) in humanoid.bodies.enumerated() {
            u -= b.mass * dot(configuration.gravity, frames[i].apply(b.centerOfMass))
        }
        return u
    }
}
