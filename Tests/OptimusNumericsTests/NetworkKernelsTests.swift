import Testing
@testable import OptimusNumerics

/// The project's single-precision kernels: the product against a Double reference in every transpose mode, with
/// leading dimensions, α, β and ragged edges; the same bits from every instruction-set path; the softmax against
/// the analytic answer. The level is process-wide, so the suite that switches it runs serialized and restores it.
@Suite(.serialized) struct NetworkKernelsTests {
    /// op(A)·op(B) in Double, from Float inputs stored with leading dimensions (transposed storage when asked).
    struct Case {
        let m: Int, n: Int, k: Int, transA: Bool, transB: Bool, lda: Int, ldb: Int, ldc: Int
        let a: [Float], b: [Float], c: [Float]
        init(m: Int, n: Int, k: Int, transA: Bool, transB: Bool, seed: UInt64) {
            self.m = m; self.n = n; self.k = k; self.transA = transA; self.transB = transB
            var g = Xoshiro256StarStar(seed: seed)
            lda = (transA ? m : k) + 3
            ldb = (transB ? k : n) + 5
            ldc = n + 2
            a = (0..<((transA ? k : m) * lda)).map { _ in Float(g.uniform(-1, 1)) }
            b = (0..<((transB ? n : k) * ldb)).map { _ in Float(g.uniform(-1, 1)) }
            c = (0..<(m * ldc)).map { _ in Float(g.uniform(-1, 1)) }
        }
        func opA(_ i: Int, _ p: Int) -> Double { Double(transA ? a[p * lda + i] : a[i * lda + p]) }
        func opB(_ p: Int, _ j: Int) -> Double { Double(transB ? b[j * ldb + p] : b[p * ldb + j]) }
        func run(alpha: Float, beta: Float) -> [Float] {
            var out = c
            a.withUnsafeBufferPointer { ab in b.withUnsafeBufferPointer { bb in out.withUnsafeMutableBufferPointer { cb in
                Float._gemm(transA, transB, m, n, k, alpha, ab.baseAddress!, lda, bb.baseAddress!, ldb, beta,
                            cb.baseAddress!, ldc)
            } } }
            return out
        }
    }

    static let shapes: [(Int, Int, Int)] = [(1, 1, 1), (1, 33, 7), (13, 1, 40), (12, 32, 64), (25, 17, 3),
                                            (37, 70, 129), (6, 16, 0), (100, 48, 1000)]

    @Test(arguments: shapes)
    func productMatchesDoubleReferenceInEveryMode(shape: (Int, Int, Int)) {
        let (m, n, k) = shape
        for (transA, transB) in [(false, false), (false, true), (true, false), (true, true)] {
            let t = Case(m: m, n: n, k: k, transA: transA, transB: transB, seed: UInt64(m * 7919 + n * 31 + k))
            for (alpha, beta) in [(Float(1), Float(0)), (0.5, 1), (-2, 0.25)] {
                let out = t.run(alpha: alpha, beta: beta)
                var worst = 0.0
                for i in 0..<m {
                    for j in 0..<n {
                        var s = 0.0
                        for p in 0..<k { s += t.opA(i, p) * t.opB(p, j) }
                        let expected = Double(alpha) * s + Double(beta) * Double(t.c[i * t.ldc + j])
                        // Float rounding of a k-term sum of products of magnitude ≤ 1: well inside 1e-6·(k + 4).
                        worst = max(worst, abs(Double(out[i * t.ldc + j]) - expected) / (1e-6 * Double(k + 4)))
                    }
                }
                #expect(worst <= 1, "m \(m) n \(n) k \(k) transA \(transA) transB \(transB) α \(alpha) β \(beta)")
                // Padding between rows of C (leading dimension) is never written.
                for i in 0..<m { for j in n..<t.ldc { #expect(out[i * t.ldc + j] == t.c[i * t.ldc + j]) } }
            }
        }
    }

    @Test func everyInstructionSetGivesTheSameBits() {
        defer { NetworkKernels.setLevel(nil) }
        let levels = NetworkKernels.available
        #expect(levels.contains(.portable))
        for (m, n, k) in Self.shapes + [(50, 384, 128), (64, 200, 64)] {
            for (transA, transB) in [(false, false), (false, true), (true, false), (true, true)] {
                let t = Case(m: m, n: n, k: k, transA: transA, transB: transB, seed: UInt64(k * 131 + n))
                var results: [[UInt32]] = []
                for level in levels {
                    #expect(NetworkKernels.setLevel(level) == level)
                    results.append(t.run(alpha: 0.7, beta: 0.3).map(\.bitPattern))
                }
                for r in results.dropFirst() { #expect(r == results[0], "m \(m) n \(n) k \(k) \(transA) \(transB)") }
            }
        }
        for columns in [1, 7, 16, 17, 40, 1000] {
            var g = Xoshiro256StarStar(seed: UInt64(columns))
            let input = (0..<(3 * columns)).map { _ in Float(g.uniform(-30, 30)) }
            var results: [[UInt32]] = []
            for level in levels {
                NetworkKernels.setLevel(level)
                var m = input
                m.withUnsafeMutableBufferPointer { NetworkKernels.softmaxRows($0.baseAddress!, rows: 3, columns: columns, ld: columns) }
                results.append(m.map(\.bitPattern))
            }
            for r in results.dropFirst() { #expect(r == results[0], "softmax, \(columns) columns") }
        }
    }

    /// Layer norm forward and backward, and the softmax's backward pass: every level gives the same bits, and the
    /// values match a Double evaluation of the same formulas.
    @Test func rowKernelsAgreeAcrossLevelsAndWithDouble() {
        defer { NetworkKernels.setLevel(nil) }
        for (rows, width) in [(1, 1), (3, 7), (5, 32), (4, 128), (2, 131)] {
            var g = Xoshiro256StarStar(seed: UInt64(rows * 1000 + width))
            let x = (0..<(rows * width)).map { _ in Float(g.uniform(-3, 3)) }
            let dy = (0..<(rows * width)).map { _ in Float(g.uniform(-1, 1)) }
            let gain = (0..<width).map { _ in Float(g.uniform(0.5, 1.5)) }
            let bias = (0..<width).map { _ in Float(g.uniform(-0.5, 0.5)) }
            let dx0 = (0..<(rows * width)).map { _ in Float(g.uniform(-1, 1)) }
            var outputs: [[UInt32]] = []
            var last: (y: [Float], dg: [Float], db: [Float], dx: [Float]) = ([], [], [], [])
            for level in NetworkKernels.available {
                NetworkKernels.setLevel(level)
                var y = [Float](repeating: 0, count: rows * width)
                var dg = [Float](repeating: 0.25, count: width), db = [Float](repeating: -0.5, count: width)
                var dx = dx0
                NetworkKernels.layerNorm(x, rows: rows, width: width, gain: gain, bias: bias, epsilon: 1e-5, into: &y)
                NetworkKernels.layerNormBackward(x, rows: rows, width: width, dy: dy, gain: gain, epsilon: 1e-5,
                                                 gainGradient: &dg, biasGradient: &db, dx: &dx, accumulate: true)
                outputs.append((y + dg + db + dx).map(\.bitPattern))
                last = (y, dg, db, dx)
            }
            for o in outputs.dropFirst() { #expect(o == outputs[0], "rows \(rows) width \(width)") }
            // Double reference of the same formulas.
            for r in 0..<rows {
                let row = (0..<width).map { Double(x[r * width + $0]) }
                let mean = row.reduce(0, +) / Double(width)
                let variance = row.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(width)
                let inv = 1 / (variance + 1e-5).squareRoot()
                let xhat = row.map { ($0 - mean) * inv }
                let dxhat = (0..<width).map { Double(dy[r * width + $0]) * Double(gain[$0]) }
                let meanD = dxhat.reduce(0, +) / Double(width)
                let meanDX = zip(dxhat, xhat).reduce(0) { $0 + $1.0 * $1.1 } / Double(width)
                for j in 0..<width {
                    let y = xhat[j] * Double(gain[j]) + Double(bias[j])
                    #expect(abs(Double(last.y[r * width + j]) - y) <= 1e-5 * (1 + abs(y)))
                    let dx = Double(dx0[r * width + j]) + (dxhat[j] - meanD - xhat[j] * meanDX) * inv
                    #expect(abs(Double(last.dx[r * width + j]) - dx) <= 1e-4 * (1 + abs(dx)), "dx r \(r) j \(j)")
                }
            }
            for j in 0..<width {
                let db = -0.5 + (0..<rows).reduce(0.0) { $0 + Double(dy[$1 * width + j]) }
                #expect(abs(Double(last.db[j]) - db) <= 1e-5 * (1 + abs(db)))
            }
        }
        for columns in [1, 9, 16, 100] {
            var g = Xoshiro256StarStar(seed: UInt64(columns) &+ 5)
            var p = (0..<(3 * columns)).map { _ in Float(g.uniform(0, 1)) }
            for r in 0..<3 {  // rows of a distribution
                let total = p[(r * columns)..<((r + 1) * columns)].reduce(0, +)
                for j in 0..<columns { p[r * columns + j] /= total }
            }
            let dp = (0..<(3 * columns)).map { _ in Float(g.uniform(-1, 1)) }
            var outputs: [[UInt32]] = []
            for level in NetworkKernels.available {
                NetworkKernels.setLevel(level)
                var ds = dp
                NetworkKernels.softmaxBackward(p, &ds, rows: 3, columns: columns)
                outputs.append(ds.map(\.bitPattern))
                for r in 0..<3 {
                    let dot = (0..<columns).reduce(0.0) { $0 + Double(p[r * columns + $1]) * Double(dp[r * columns + $1]) }
                    for j in 0..<columns {
                        let e = Double(p[r * columns + j]) * (Double(dp[r * columns + j]) - dot)
                        #expect(abs(Double(ds[r * columns + j]) - e) <= 1e-6)
                    }
                }
            }
            for o in outputs.dropFirst() { #expect(o == outputs[0], "softmax backward, \(columns) columns") }
        }
    }

    @Test(arguments: [1, 5, 16, 31, 250])
    func softmaxMatchesTheAnalyticAnswer(columns: Int) {
        var g = Xoshiro256StarStar(seed: UInt64(columns) &+ 99)
        let rows = 4, ld = columns + 3
        var m = (0..<(rows * ld)).map { _ in Float(g.uniform(-20, 20)) }
        let input = m
        m.withUnsafeMutableBufferPointer { NetworkKernels.softmaxRows($0.baseAddress!, rows: rows, columns: columns, ld: ld) }
        for r in 0..<rows {
            let row = (0..<columns).map { Double(input[r * ld + $0]) }
            let mx = row.max()!
            let z = row.reduce(0) { $0 + exp($1 - mx) }
            var total = 0.0
            for j in 0..<columns {
                let expected = exp(row[j] - mx) / z
                // expApprox is good to a few ulp; the sum and the division add a few more.
                #expect(abs(Double(m[r * ld + j]) - expected) <= 1e-6 * expected + 1e-12, "row \(r) column \(j)")
                total += Double(m[r * ld + j])
            }
            #expect(abs(total - 1) < 1e-5)
            for j in columns..<ld { #expect(m[r * ld + j] == input[r * ld + j]) }  // padding untouched
        }
    }
}
