/// SplitMix64 (Steele, Lea & Flood 2014): a tiny, fast generator used to expand one 64-bit seed into the state of
/// ``Xoshiro256StarStar`` and to derive independent child seeds.
public struct SplitMix64: RandomNumberGenerator, Sendable, Codable, Hashable {
    /// The generator's whole state.
    public var state: UInt64

    /// A generator seeded with `seed`. Every seed, including 0, gives a full-period stream.
    public init(seed: UInt64) { state = seed }

    @inlinable
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// xoshiro256** (Blackman & Vigna 2018): the project's default seeded generator.
///
/// Every random draw in swift-optimus takes a generator explicitly (never the system generator), so every run is
/// reproducible from its recorded seed. Use ``split()`` or ``init(seed:stream:)`` to give parallel workers
/// independent streams whose results do not depend on the number of threads.
public struct Xoshiro256StarStar: RandomNumberGenerator, Sendable, Codable, Hashable {
    /// The four 64-bit words of state (never all zero).
    public var state: (UInt64, UInt64, UInt64, UInt64)

    /// A generator whose state is expanded from `seed` with SplitMix64.
    public init(seed: UInt64) {
        var sm = SplitMix64(seed: seed)
        state = (sm.next(), sm.next(), sm.next(), sm.next())
    }

    /// Generator number `stream` derived from `seed`: the same (seed, stream) pair always gives the same stream,
    /// and different streams are statistically independent (the seed is mixed with the stream index by SplitMix64).
    public init(seed: UInt64, stream: UInt64) {
        var sm = SplitMix64(seed: seed ^ (stream &* 0xD1B5_4A32_D192_ED03))
        _ = sm.next()
        self.init(seed: sm.next() ^ stream)
    }

    @inlinable
    public mutating func next() -> UInt64 {
        let result = Self.rotl(state.1 &* 5, 7) &* 9
        let t = state.1 << 17
        state.2 ^= state.0
        state.3 ^= state.1
        state.1 ^= state.2
        state.0 ^= state.3
        state.2 ^= t
        state.3 = Self.rotl(state.3, 45)
        return result
    }

    /// A new generator seeded from this one's next output; this generator advances by one draw.
    public mutating func split() -> Xoshiro256StarStar { Xoshiro256StarStar(seed: next()) }

    @inlinable
    static func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 &- k)) }

    public static func == (a: Self, b: Self) -> Bool {
        a.state.0 == b.state.0 && a.state.1 == b.state.1 && a.state.2 == b.state.2 && a.state.3 == b.state.3
    }
    public func hash(into h: inout Hasher) {
        h.combine(state.0); h.combine(state.1); h.combine(state.2); h.combine(state.3)
    }

    private enum CodingKeys: String, CodingKey { case state }
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let s = try c.decode([UInt64].self, forKey: .state)
        guard s.count == 4, s.contains(where: { $0 != 0 }) else {
            throw DecodingError.dataCorruptedError(forKey: .state, in: c,
                debugDescription: "state must be 4 words, not all zero")
        }
        state = (s[0], s[1], s[2], s[3])
    }
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode([state.0, state.1, state.2, state.3], forKey: .state)
    }
}

extension RandomNumberGenerator {
    /// A uniform Double in [0, 1) with 53 random bits: `(next() >> 11) · 2⁻⁵³`.
    ///
    /// Unlike `Double.random(in:using:)`, the mapping from generator output to value is fixed here, so seeded
    /// results do not change with the standard library.
    @inlinable
    public mutating func nextUnit() -> Double { Double(next() >> 11) * 0x1.0p-53 }

    /// A uniform Double in [lower, upper).
    @inlinable
    public mutating func uniform(_ lower: Double, _ upper: Double) -> Double {
        lower + (upper - lower) * nextUnit()
    }

    /// `count` uniform Doubles in [lower, upper).
    @inlinable
    public mutating func uniform(_ lower: Double, _ upper: Double, count: Int) -> [Double] {
        (0..<count).map { _ in uniform(lower, upper) }
    }

    /// A standard normal draw (Box–Muller, one value per two uniforms; the cosine branch).
    @inlinable
    public mutating func normal() -> Double {
        var u1 = nextUnit()
        while u1 == 0 { u1 = nextUnit() }
        let u2 = nextUnit()
        return (-2 * _log(u1)).squareRoot() * _cos(2 * Double.pi * u2)
    }

    /// `count` independent normal draws with the given mean and standard deviation.
    @inlinable
    public mutating func normal(count: Int, mean: Double = 0, standardDeviation: Double = 1) -> [Double] {
        (0..<count).map { _ in mean + standardDeviation * normal() }
    }

    /// A uniform integer in 0..<upperBound (Lemire's nearly divisionless method, unbiased).
    @inlinable
    public mutating func nextInt(below upperBound: Int) -> Int {
        precondition(upperBound > 0, "nextInt(below:): bound must be positive")
        let bound = UInt64(upperBound)
        var m = next().multipliedFullWidth(by: bound)
        if m.low < bound {
            let threshold = (0 &- bound) % bound
            while m.low < threshold { m = next().multipliedFullWidth(by: bound) }
        }
        return Int(m.high)
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
@usableFromInline func _log(_ x: Double) -> Double { log(x) }
@usableFromInline func _cos(_ x: Double) -> Double { cos(x) }
