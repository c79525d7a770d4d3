extension Matrix where Scalar == Double {
    /// Solves A·y = b for a square A by LU factorization with partial pivoting; nil when A is not square, b has the
    /// wrong length, or A is singular to working precision (a pivot below `d·ε·max|Aᵢⱼ|`).
    ///
    /// O(d³): meant for the small dense systems of diagnostics (Newton directions on low-dimensional problems), not for
    /// the inner loops of optimizers.
    public func solve(_ b: [Double]) -> [Double]? {
        let n = rows
        guard columns == n, b.count == n, n > 0 else { return nil }
        var a = storage
        var y = b
        let scale = a.reduce(0) { Swift.max($0, abs($1)) }
        guard scale > 0, scale.isFinite else { return nil }
        let tiny = Double(n) * Double.ulpOfOne * scale
        for col in 0..<n {
            var pivot = col
            for r in (col + 1)..<Swift.max(col + 1, n) where abs(a[r * n + col]) > abs(a[pivot * n + col]) { pivot = r }
            guard abs(a[pivot * n + col]) > tiny else { return nil }
            if pivot != col {
                for c in 0..<n { a.swapAt(pivot * n + c, col * n + c) }
                y.swapAt(pivot, col)
            }
            let p = a[col * n + col]
            for r in (col + 1)..<Swift.max(col + 1, n) {
                let factor = a[r * n + col] / p
                if factor == 0 { continue }
                for c in col..<n { a[r * n + c] -= factor * a[col * n + c] }
                y[r] -= factor * y[col]
            }
        }
        for r in stride(from: n - 1, through: 0, by: -1) {
            var s = y[r]
            for c in (r + 1)..<Swift.max(r + 1, n) { s -= a[r * n + c] * y[c] }
            y[r] = s / a[r * n + r]
        }
        return y.allSatisfy(\.isFinite) ? y : nil
    }
}
