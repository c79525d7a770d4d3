import Testing
@testable import OptimusNumerics

/// Naive reference products, to check the BLAS wrappers (argument order, transposes, leading dimensions).
func naiveProduct<T: BLASScalar>(_ a: Matrix<T>, _ b: Matrix<T>) -> Matrix<T> {
    var c = Matrix<T>(rows: a.rows, columns: b.columns)
    for i in 0..<a.rows { for j in 0..<b.columns {
        var s: T = 0
        for k in 0..<a.columns { s += a[i, k] * b[k, j] }
        c[i, j] = s
    } }
    return c
}

func randomMatrix<T: BLASScalar>(_ rows: Int, _ columns: Int, _ g: inout Xoshiro256StarStar) -> Matrix<T> {
    Matrix(rows: rows, columns: columns, storage: (0..<(rows * columns)).map { _ in T(g.uniform(-1, 1)) })
}

func maxDifference<T: BLASScalar>(_ a: Matrix<T>, _ b: Matrix<T>) -> T {
    zip(a.storage, b.storage).map { abs($0 - $1) }.max() ?? 0
}

@Suite struct BLASTests {
    @Test(arguments: [(1, 1, 1), (3, 5, 2), (17, 9, 33), (64, 128, 40)])
    func gemmMatchesNaiveProductInAllTransposeModes(shape: (Int, Int, Int)) {
        let (m, n, k) = shape
        var g = Xoshiro256StarStar(seed: UInt64(m * 10_000 + n * 100 + k))
        let a: Matrix<Double> = randomMatrix(m, k, &g)
        let b: Matrix<Double> = randomMatrix(k, n, &g)
        let expected = naiveProduct(a, b)
        #expect(maxDifference(BLAS.gemm(a, b), expected) < 1e-13)
        #expect(maxDifference(BLAS.gemm(a.transposed, transposeA: true, b), expected) < 1e-13)
        #expect(maxDifference(BLAS.gemm(a, b.transposed, transposeB: true), expected) < 1e-13)
        var c = Matrix<Double>(rows: m, columns: n, repeating: 1)
        BLAS.gemm(a, b, into: &c, alpha: 2, beta: -1)
        let scaled = Matrix(rows: m, columns: n, storage: expected.storage.map { 2 * $0 - 1 })
        #expect(maxDifference(c, scaled) < 1e-13)
        let af = Matrix<Float>(rows: m, columns: k, storage: a.storage.map(Float.init))
        let bf = Matrix<Float>(rows: k, columns: n, storage: b.storage.map(Float.init))
        #expect(maxDifference(BLAS.gemm(af, bf), naiveProduct(af, bf)) < 1e-4)
    }

    @Test func gemvGerDotAxpyNorm() {
        var g = Xoshiro256StarStar(seed: 1)
        let a: Matrix<Double> = randomMatrix(6, 4, &g)
        let x = g.uniform(-1, 1, count: 4)
        let y = BLAS.gemv(a, x)
        for i in 0..<6 {
            var s = 0.0
            for j in 0..<4 { s += a[i, j] * x[j] }
            #expect(abs(y[i] - s) < 1e-15)
        }
        let yt = BLAS.gemv(a, transposed: true, y)
        for j in 0..<4 {
            var s = 0.0
            for i in 0..<6 { s += a[i, j] * y[i] }
            #expect(abs(yt[j] - s) < 1e-14)
        }
        var b = a
        BLAS.ger(0.5, y, x, &b)
        for i in 0..<6 { for j in 0..<4 { #expect(abs(b[i, j] - (a[i, j] + 0.5 * y[i] * x[j])) < 1e-15) } }
        #expect(BLAS.dot([1.0, 2, 3], [4.0, 5, 6]) == 32)
        var z = [1.0, 1, 1]
        BLAS.axpy(2, [1.0, 2, 3], &z)
        #expect(z == [3, 5, 7])
        // nrm2 does not overflow where the naive sum of squares would.
        #expect(abs(BLAS.norm([3e200, 4e200]) / 5e200 - 1) < 1e-15)
        #expect([Float(3), 4].norm == 5)
        #expect([1.0, -7, 2].infinityNorm == 7)
    }
}

@Suite struct RandomTests {
    @Test func splitMix64MatchesPublishedOutputs() {
        // Reference outputs of SplitMix64 seeded with 1234567 (Vigna's splitmix64.c).
        var g = SplitMix64(seed: 1_234_567)
        let expected: [UInt64] = [6_457_827_717_110_365_317, 3_203_168_211_198_807_973, 9_817_491_932_198_370_423,
                                  4_593_380_528_125_082_431, 16_408_922_859_458_223_821]
        #expect((0..<5).map { _ in g.next() } == expected)
    }

    @Test func xoshiroIsDeterministicAndStreamsDiffer() {
        var a = Xoshiro256StarStar(seed: 42), b = Xoshiro256StarStar(seed: 42)
        #expect((0..<100).map { _ in a.next() } == (0..<100).map { _ in b.next() })
        var s0 = Xoshiro256StarStar(seed: 42, stream: 0), s1 = Xoshiro256StarStar(seed: 42, stream: 1)
        #expect(s0.next() != s1.next())
    }

    @Test func uniformAndNormalMomentsAgreeWithTheory() {
        // n = 200 000 draws: the sample mean of U(0,1) has sd 1/√(12n) ≈ 6.5e−4; allow 5 sd.
        var g = Xoshiro256StarStar(seed: 2024)
        let n = 200_000
        let u = (0..<n).map { _ in g.nextUnit() }
        #expect(abs(Statistics.mean(u) - 0.5) < 5 * 6.5e-4)
        #expect(abs(Statistics.variance(u) - 1.0 / 12) < 0.002)
        #expect(u.allSatisfy { $0 >= 0 && $0 < 1 })
        let z = g.normal(count: n)
        #expect(abs(Statistics.mean(z)) < 5 / Double(n).squareRoot())
        #expect(abs(Statistics.variance(z) - 1) < 0.02)
        // Fraction within one standard deviation: 0.6827 (sd of the estimate ≈ 0.001).
        let within = Double(z.filter { abs($0) < 1 }.count) / Double(n)
        #expect(abs(within - 0.682_689_5) < 0.006)
    }

    @Test func nextIntIsUniformOverSmallRanges() {
        var g = Xoshiro256StarStar(seed: 9)
        var counts = [Int](repeating: 0, count: 7)
        for _ in 0..<70_000 { counts[g.nextInt(below: 7)] += 1 }
        // χ² with 6 degrees of freedom: the 99.9 % quantile is 22.46.
        let chi2 = counts.map { Double(($0 - 10_000) * ($0 - 10_000)) / 10_000 }.reduce(0, +)
        #expect(chi2 < 22.46)
    }

    @Test func codableRoundTrip() throws {
        var g = Xoshiro256StarStar(seed: 77)
        _ = g.next()
        let data = try JSONEncoderShim.encode(g)
        var h = try JSONEncoderShim.decode(Xoshiro256StarStar.self, data)
        #expect(g.next() == h.next())
    }
}

@Suite struct StatisticsTests {
    @Test func quantilesMatchNumPyLinear() {
        let x = [7.0, 1, 3, 5, 9]
        #expect(Statistics.median(x) == 5)
        #expect(Statistics.quantile(x, 0.25) == 3)
        #expect(Statistics.quantile([1, 2, 3, 4], 0.5) == 2.5)
        #expect(Statistics.quantile([1, 2, 3, 4], 0.1) == 1.3)  // numpy.quantile([1,2,3,4], 0.1) = 1.3
        #expect(Statistics.mean([1, 2, 3, 4]) == 2.5)
        #expect(Statistics.standardDeviation([2, 4, 4, 4, 5, 5, 7, 9]) == (32.0 / 7).squareRoot())
    }

    @Test func logspaceMatchesNumPy() {
        let r = Statistics.logspace(-6, 0, count: 100)
        #expect(r.count == 100 && r.first == 1e-6 && r.last == 1)
        // numpy.logspace(-6, 0, 100)[94] = 0.49770235643321137
        #expect(abs(r[94] - 0.49770235643321137) <= 1e-16)
    }
}
