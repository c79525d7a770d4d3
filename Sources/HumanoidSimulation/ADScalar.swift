import _Differentiation
import OptimusNumerics

// The C math functions under names that member functions called exp/sin/… cannot shadow.
@usableFromInline func cExp(_ x: Double) -> Double { exp(x) }
@usableFromInline func cSin(_ x: Double) -> Double { sin(x) }
@usableFromInline func cCos(_ x: Double) -> Double { cos(x) }
@usableFromInline func cAtan2(_ y: Double, _ x: Double) -> Double { atan2(y, x) }
@usableFromInline func cLog1p(_ x: Double) -> Double { log1p(x) }

/// The scalar the simulator is written over, so that one implementation of the dynamics runs plain (`Double`), with
/// forward tangents (``Dual``, exact Jacobian-vector products) and recorded for reverse mode (``TapeScalar``, exact
/// vector-Jacobian products: the step's adjoint).
public protocol ADScalar: Sendable {
    init(_ constant: Double)
    var value: Double { get }
    static func + (a: Self, b: Self) -> Self
    static func - (a: Self, b: Self) -> Self
    static func * (a: Self, b: Self) -> Self
    static func / (a: Self, b: Self) -> Self
    static prefix func - (a: Self) -> Self
    static func * (a: Double, b: Self) -> Self
    static func + (a: Self, b: Double) -> Self
    func squareRoot() -> Self
    static func exp(_ x: Self) -> Self
    static func sin(_ x: Self) -> Self
    static func cos(_ x: Self) -> Self
    static func atan2(_ y: Self, _ x: Self) -> Self
    /// log(1 + eˣ), evaluated without overflow.
    static func softplus(_ x: Self) -> Self
}

extension ADScalar {
    @inlinable public static func - (a: Self, b: Double) -> Self { a + (-b) }
    @inlinable public static func / (a: Self, b: Double) -> Self { (1 / b) * a }
    @inlinable public static func += (a: inout Self, b: Self) { a = a + b }
    @inlinable public static func -= (a: inout Self, b: Self) { a = a - b }
}

extension Double: ADScalar {
    @inlinable public var value: Double { self }
    @inlinable public static func exp(_ x: Double) -> Double { cExp(x) }
    @inlinable public static func sin(_ x: Double) -> Double { cSin(x) }
    @inlinable public static func cos(_ x: Double) -> Double { cCos(x) }
    @inlinable public static func atan2(_ y: Double, _ x: Double) -> Double { cAtan2(y, x) }
    @inlinable public static func softplus(_ x: Double) -> Double { x > 30 ? x : cLog1p(cExp(x)) }
}

/// A dual number v + t·ε: forward-mode derivatives (one tangent direction per pass).
public struct Dual: ADScalar, Equatable {
    public var value: Double
    public var tangent: Double

    @inlinable public init(_ value: Double, tangent: Double) {
        self.value = value
        self.tangent = tangent
    }
    @inlinable public init(_ constant: Double) { self.init(constant, tangent: 0) }

    @inlinable public static func + (a: Dual, b: Dual) -> Dual { Dual(a.value + b.value, tangent: a.tangent + b.tangent) }
    @inlinable public static func - (a: Dual, b: Dual) -> Dual { Dual(a.value - b.value, tangent: a.tangent - b.tangent) }
    @inlinable public static func * (a: Dual, b: Dual) -> Dual {
        Dual(a.value * b.value, tangent: a.tangent * b.value + a.value * b.tangent)
    }
    @inlinable public static func / (a: Dual, b: Dual) -> Dual {
        let q = a.value / b.value
        return Dual(q, tangent: (a.tangent - q * b.tangent) / b.value)
    }
    @inlinable public static prefix func - (a: Dual) -> Dual { Dual(-a.value, tangent: -a.tangent) }
    @inlinable public static func * (a: Double, b: Dual) -> Dual { Dual(a * b.value, tangent: a * b.tangent) }
    @inlinable public static func + (a: Dual, b: Double) -> Dual { Dual(a.value + b, tangent: a.tangent) }
    @inlinable public func squareRoot() -> Dual {
        let r = value.squareRoot()
        return Dual(r, tangent: tangent / (2 * r))
    }
    @inlinable public static func exp(_ x: Dual) -> Dual {
        let e = cExp(x.value)
        return Dual(e, tangent: e * x.tangent)
    }
    @inlinable public static func sin(_ x: Dual) -> Dual { Dual(cSin(x.value), tangent: cCos(x.value) * x.tangent) }
    @inlinable public static func cos(_ x: Dual) -> Dual { Dual(cCos(x.value), tangent: -cSin(x.value) * x.tangent) }
    @inlinable public static func atan2(_ y: Dual, _ x: Dual) -> Dual {
        let r2 = x.value * x.value + y.value * y.value
        return Dual(cAtan2(y.value, x.value), tangent: (x.value * y.tangent - y.value * x.tangent) / r2)
    }
    @inlinable public static func softplus(_ x: Dual) -> Dual {
        Dual(Double.softplus(x.value), tangent: x.tangent / (1 + cExp(-x.value)))
    }
}

/// The tape's buffer, reached through a raw pointer from every recorded value (no class-property access, so no
/// dynamic exclusivity checks on the hot path).
@usableFromInline struct TapeStorage {
    @usableFromInline struct Node {
        @usableFromInline var a: Int32
        @usableFromInline var b: Int32
        @usableFromInline var da: Double
        @usableFromInline var db: Double
        @inlinable init(a: Int32, b: Int32, da: Double, db: Double) {
            self.a = a
            self.b = b
            self.da = da
            self.db = db
        }
    }
    @usableFromInline var nodes: UnsafeMutablePointer<Node>
    @usableFromInline var capacity: Int
    @usableFromInline var used: Int

    @usableFromInline mutating func grow() {
        let bigger = UnsafeMutablePointer<Node>.allocate(capacity: capacity * 2)
        bigger.moveInitialize(from: nodes, count: used)
        nodes.deallocate()
        nodes = bigger
        capacity *= 2
    }

    @inlinable mutating func record(_ a: Int32, _ da: Double, _ b: Int32, _ db: Double) -> Int32 {
        if used == capacity { grow() }
        (nodes + used).initialize(to: Node(a: a, b: b, da: da, db: db))
        used += 1
        return Int32(used - 1)
    }
}

/// A reverse-mode tape: each recorded value keeps up to two parents and the local partial derivatives with respect
/// to them, in one contiguous buffer (recording is a store and an increment). ``adjoints(seeds:)`` sweeps it backwards
/// once. One tape per thread; values from different tapes must not be mixed; the tape must outlive its values.
public final class Tape {
    @usableFromInline let storage: UnsafeMutablePointer<TapeStorage>
    var adjoint: [Double] = []

    public init(capacity: Int = 1 << 15) {
        let c = max(16, capacity)
        storage = .allocate(capacity: 1)
        storage.initialize(to: TapeStorage(nodes: .allocate(capacity: c), capacity: c, used: 0))
    }

    deinit {
        storage.pointee.nodes.deallocate()
        storage.deallocate()
    }

    public var count: Int { storage.pointee.used }

    /// Forgets every recorded value (keeps the memory).
    public func reset() { storage.pointee.used = 0 }

    /// A new independent variable.
    public func variable(_ value: Double) -> TapeScalar {
        TapeScalar(value: value, index: storage.pointee.record(-1, 0, -1, 0), tape: storage)
    }

    /// Adjoints of every recorded value for the seeds (value, weight): one backward sweep.
    public func adjoints(seeds: [(TapeScalar, Double)]) -> [Double] {
        let used = storage.pointee.used
        let nodes = storage.pointee.nodes
        var adjoint = [Double](repeating: 0, count: used)
        adjoint.withUnsafeMutableBufferPointer { adj in
            for (v, w) in seeds where v.index >= 0 { adj[Int(v.index)] += w }
            var i = used - 1
            while i >= 0 {
                let g = adj[i]
                if g != 0 {
                    let n = nodes[i]
                    if n.a >= 0 { adj[Int(n.a)] += g * n.da }
                    if n.b >= 0 { adj[Int(n.b)] += g * n.db }
                }
                i -= 1
            }
        }
        return adjoint
    }
}

/// A value recorded on a ``Tape`` (index ≥ 0), or a constant (index −1, no tape).
public struct TapeScalar: ADScalar, @unchecked Sendable {
    public let value: Double
    public let index: Int32
    @usableFromInline let tape: UnsafeMutablePointer<TapeStorage>?

    @inlinable init(value: Double, index: Int32, tape: UnsafeMutablePointer<TapeStorage>?) {
        self.value = value
        self.index = index
        self.tape = tape
    }

    @inlinable public init(_ constant: Double) { self.init(value: constant, index: -1, tape: nil) }

    @inlinable static func unary(_ x: TapeScalar, _ value: Double, _ d: Double) -> TapeScalar {
        guard let t = x.tape else { return TapeScalar(value) }
        return TapeScalar(value: value, index: t.pointee.record(x.index, d, -1, 0), tape: t)
    }

    @inlinable static func binary(_ x: TapeScalar, _ y: TapeScalar, _ value: Double, _ dx: Double, _ dy: Double)
        -> TapeScalar
    {
        guard let t = x.tape ?? y.tape else { return TapeScalar(value) }
        return TapeScalar(value: value, index: t.pointee.record(x.index, dx, y.index, dy), tape: t)
    }
    @inlinable public static func + (a: TapeScalar, b: TapeScalar) -> TapeScalar { binary(a, b, a.value + b.value, 1, 1) }
    @inlinable public static func - (a: TapeScalar, b: TapeScalar) -> TapeScalar { binary(a, b, a.value - b.value, 1, -1) }
    @inlinable public static func * (a: TapeScalar, b: TapeScalar) -> TapeScalar {
        binary(a, b, a.value * b.value, b.value, a.value)
    }
    @inlinable public static func / (a: TapeScalar, b: TapeScalar) -> TapeScalar {
        let q = a.value / b.value
        return binary(a, b, q, 1 / b.value, -q / b.value)
    }
    @inlinable public static prefix func - (a: TapeScalar) -> TapeScalar { unary(a, -a.value, -1) }
    @inlinable public static func * (a: Double, b: TapeScalar) -> TapeScalar { unary(b, a * b.value, a) }
    @inlinable public static func + (a: TapeScalar, b: Double) -> TapeScalar { unary(a, a.value + b, 1) }
    @inlinable public func squareRoot() -> TapeScalar {
        let r = value.squareRoot()
        return Self.unary(self, r, 1 / (2 * r))
    }
    @inlinable public static func exp(_ x: TapeScalar) -> TapeScalar {
        let e = cExp(x.value)
        return unary(x, e, e)
    }
    @inlinable public static func sin(_ x: TapeScalar) -> TapeScalar { unary(x, cSin(x.value), cCos(x.value)) }
    @inlinable public static func cos(_ x: TapeScalar) -> TapeScalar { unary(x, cCos(x.value), -cSin(x.value)) }
    @inlinable public static func atan2(_ y: TapeScalar, _ x: TapeScalar) -> TapeScalar {
        let r2 = x.value * x.value + y.value * y.value
        return binary(y, x, cAtan2(y.value, x.value), x.value / r2, -y.value / r2)
    }
    @inlinable public static func softplus(_ x: TapeScalar) -> TapeScalar {
        unary(x, Double.softplus(x.value), 1 / (1 + cExp(-x.value)))
    }
}
