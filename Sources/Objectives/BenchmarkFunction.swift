/// The test functions of the paper's Section 5.1 (SFU Virtual Library, Surjanovic & Bingham), plus Powell.
///
/// Each function is defined for any dimension d ≥ 2 (Powell: d ≥ 4 and a multiple of 4), has an analytic gradient,
/// a domain (the SFU "usually evaluated on" hypercube), a known minimizer and a known minimum f*(d). Formulas and
/// conventions follow `docs/test-functions.md` exactly (Levy's sin(πwᵢ + 1), Schwefel's 418.9829
/// constant so f* = 1.2727566229386866e−5·d, exact Styblinski–Tang f* = −39.16616570377142·d, Michalewicz f* on the
/// box [0, π]ᵈ computed per coordinate).
///
/// The raw value is the canonical snake_case name used in files and on the command line
/// (`rotated_hyper_ellipsoid`); ``init(name:)`` also accepts kebab-case and the display name.
public enum BenchmarkFunction: String, CaseIterable, Sendable, Codable {
    case ackley
    case griewank
    case levy
    case rastrigin
    case schwefel
    case rotatedHyperEllipsoid = "rotated_hyper_ellipsoid"
    case sphere
    case sumOfDifferentPowers = "sum_of_different_powers"
    case sumSquares = "sum_squares"
    case trid
    case zakharov
    case dixonPrice = "dixon_price"
    case rosenbrock
    case michalewicz
    case styblinskiTang = "styblinski_tang"
    /// Powell (extra; not among the paper's 15): d must be a multiple of 4.
    case powell

    /// The paper's 15 functions in the order of `docs/test-functions.md`, *Function order* (the order defines the
    /// index k used in reference seeds).
    public static let paperSuite: [BenchmarkFunction] = [
        .ackley, .griewank, .levy, .rastrigin, .schwefel, .rotatedHyperEllipsoid, .sphere, .sumOfDifferentPowers,
        .sumSquares, .trid, .zakharov, .dixonPrice, .rosenbrock, .michalewicz, .styblinskiTang,
    ]

    /// Looks a function up by canonical name, kebab-case name or display name (case-insensitive).
    public init?(name: String) {
        guard let f = Self.named(name, separators: ["-", " "]) else { return nil }
        self = f
    }

    /// Human-readable name, e.g. "Rotated Hyper-Ellipsoid".
    public var displayName: String {
        switch self {
        case .ackley: "Ackley"
        case .griewank: "Griewank"
        case .levy: "Levy"
        case .rastrigin: "Rastrigin"
        case .schwefel: "Schwefel"
        case .rotatedHyperEllipsoid: "Rotated Hyper-Ellipsoid"
        case .sphere: "Sphere"
        case .sumOfDifferentPowers: "Sum of Different Powers"
        case .sumSquares: "Sum Squares"
        case .trid: "Trid"
        case .zakharov: "Zakharov"
        case .dixonPrice: "Dixon-Price"
        case .rosenbrock: "Rosenbrock"
        case .michalewicz: "Michalewicz"
        case .styblinskiTang: "Styblinski-Tang"
        case .powell: "Powell"
        }
    }

    /// The smallest valid dimension (2, or 4 for Powell).
    public var minimumDimension: Int { self == .powell ? 4 : 2 }

    /// A description of the valid dimensions, for error messages.
    public var validDimensions: String {
        self == .powell ? "a multiple of 4, at least 4" : "an integer of at least 2"
    }

    /// Whether `dimension` is a valid dimension for this function.
    public func isValid(dimension: Int) -> Bool {
        dimension >= minimumDimension && (self != .powell || dimension % 4 == 0)
    }

    /// The SFU domain [lo, hi] applied to every coordinate (unshifted). Trid's is [−d², d²].
    public func domain(dimension d: Int) -> ClosedRange<Double> {
        switch self {
        case .ackley: -32.768...32.768
        case .griewank: -600...600
        case .levy: -10...10
        case .rastrigin: -5.12...5.12
        case .schwefel: -500...500
        case .rotatedHyperEllipsoid: -65.536...65.536
        case .sphere: -5.12...5.12
        case .sumOfDifferentPowers: -1...1
        case .sumSquares: -10...10
        case .trid: -Double(d * d)...Double(d * d)
        case .zakharov: -5...10
        case .dixonPrice: -10...10
        case .rosenbrock: -5...10
        case .michalewicz: 0...Double.pi
        case .styblinskiTang: -5...5
        case .powell: -4...5
        }
    }
}
