extension Float {
    /// eˣ to about 2 ulp, branch-free so that loops over arrays vectorize (softmax, GELU).
    ///
    /// Range reduction x = n·ln2 + r with |r| ≤ ln2/2 (ln2 split in two parts), the degree-6 minimax polynomial of
    /// Cephes' `expf` for eʳ, and 2ⁿ built from the exponent bits. Inputs are clamped to [−87.3, 88.3], so the
    /// result is always finite and positive; below −87.3 it returns e^−87.3 ≈ 1.2e−38 instead of 0.
    @inlinable @inline(__always)
    public static func expApprox(_ x: Float) -> Float {
        let c = Swift.min(Swift.max(x, -87.3), 88.3)
        // Round to nearest by adding and subtracting 1.5·2²³; the integer then sits in the low mantissa bits of t.
        let t = c * 1.442_695_04 + 12_582_912
        let n = t - 12_582_912
        let r = c - n * 0.693_359_375 + n * 2.121_944_4e-4
        let r2 = r * r
        var p: Float = 1.987_569_15e-4
        p = p * r + 1.398_199_95e-3
        p = p * r + 8.333_451_9e-3
        p = p * r + 4.166_579_59e-2
        p = p * r + 1.666_666_55e-1
        p = p * r + 5.000_000_12e-1
        let e = p * r2 + r + 1
        let scale = Float(bitPattern: (t.bitPattern &- 0x4B40_0000 &+ 127) &<< 23)
        return e * scale
    }
}
