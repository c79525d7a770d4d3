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
