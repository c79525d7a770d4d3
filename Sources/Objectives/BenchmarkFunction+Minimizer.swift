extension BenchmarkFunction {
    /// The global minimizer x* in words, for listings (`optimus functions`); ``minimizer(dimension:)`` gives it as
    /// numbers. Coordinates are 1-based.
    public var minimizerDescription: String {
        switch self {
        case .levy, .rosenbrock: "xᵢ = 1"
        case .schwefel: "xᵢ = 420.9687463599821"
        case .styblinskiTang: "xᵢ = −2.903534027771177"
        case .trid: "xᵢ = i(d + 1 − i)"
        case .dixonPrice: "xᵢ = 2^(−(2^i − 2)/2^i) (signs of x₂…x_d free)"
        case .michalewicz: "per coordinate, solved numerically on [0, π]"
        default: "xᵢ = 0"
        }
    }
}
