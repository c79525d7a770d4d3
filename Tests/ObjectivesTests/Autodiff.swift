import _Differentiation

/// Rosenbrock written as a plain differentiable Swift function (the adapter's documented example).
@differentiable(reverse)
func rosenbrockForAutodiff(_ x: [Double]) -> Double {
    var total = 0.0
    for i in withoutDerivative(at: x.indices).dropLast() {
        let a = x[i + 1] - x[i] * x[i]
        let b = 1 - x[i]
        total += 100 * a * a + b * b
    }
    return total
}
