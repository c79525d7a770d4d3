import Foundation
import LearnedOptimizers
@testable import MetaTraining
import Objectives
import OptimusNumerics
import TaskFamilies
import Testing
import TrainingRuns

@Suite struct AugmentedTaskTests {
    /// Q is orthogonal, and its entries have the Haar moments E[Q_ij] = 0, E[Q_ij²] = 1/d: over 400 draws at d = 6 the
    /// mean of Q_11 has standard error √(1/(6·400)) ≈ 0.02 and the mean of Q_11² has standard error below 0.012
    /// (Var Q_11² = 2(d − 1)/(d²(d + 2)) ≈ 0.035), so the bounds below are 4 to 5 standard errors.
    @Test func randomRotationsAreOrthogonalAndHaar() {
        var g = Xoshiro256StarStar(seed: 1)
        var sum = 0.0, sumSquares = 0.0
        let d = 6, draws = 400
        for _ in 0..<draws {
            let q = Matrix<Double>.randomOrthogonal(d, using: &g)
            for i in 0..<d {
                for j in 0..<d {
                    var dot = 0.0
                    for k in 0..<d { dot += q[k, i] * q[k, j] }
                    #expect(abs(dot - (i == j ? 1 : 0)) < 1e-12)
                }
            }
            sum += q[0, 0]
            sumSquares += q[0, 0] * q[0, 0]
        }
        #expect(abs(sum / Double(draws)) < 0.08)
        #expect(abs(sumSquares / Double(draws) - 1 / Double(d)) < 0.05)
    }

    /// Gradient and Hessian–vector product of the transformed objective against central differences (h = 1e−6 on
    /// a problem scaled to O(1): relative error ~1e−9, tolerance 1e−6), the start keeps its value, and the image of the
    /// preimage is the identity.
    @Test(arguments: [BenchmarkFunction.rosenbrock, .rastrigin, .trid, .sphere])
    func transformedObjectiveIsConsistent(_ function: BenchmarkFunction) throws {
        var g = Xoshiro256StarStar(seed: 3)
        let d = 7
        let base = try BenchmarkObjective(function, dimension: d, offset: g.uniform(-0.2, 0.2, count: d))
        let f = AffineObjective(base: base, center: g.uniform(-1, 1, count: d),
                                rotation: .randomOrthogonal(d, using: &g), stretch: g.uniform(0.3, 1, count: d),
                                parameterScale: 0.37, objectiveScale: 5.5)
        let y = g.uniform(-1, 1, count: d)
        let x = f.preimage(y)
        #expect(zip(f.image(x), y).allSatisfy { abs($0 - $1) < 1e-12 })
        #expect(abs(f.value(at: x) - 5.5 * base.value(at: y)) <= 1e-12 * max(1, abs(f.value(at: x))))
        let (value, gradient) = f.valueAndGradient(at: x)
        let v = g.normal(count: d)
        let hv = f.hessianVectorProduct(at: x, direction: v)
        let h = 1e-6 * 0.37
        for i in 0..<d {
            var p = x, m = x
            p[i] += h
            m[i] -= h
            let fd = (f.value(at: p) - f.value(at: m)) / (2 * h)
            #expect(abs(fd - gradient[i]) <= 1e-6 * max(1, abs(gradient[i]), abs(value)), "\(function) ∂_\(i)")
        }
        let xp = zip(x, v).map { $0 + h * $1 }, xm = zip(x, v).map { $0 - h * $1 }
        let fdHv = zip(f.gradient(at: xp), f.gradient(at: xm)).map { ($0 - $1) / (2 * h) }
        let scale = max(1, hv.map(abs).max()!)
        #expect(zip(fdHv, hv).allSatisfy { abs($0 - $1) <= 1e-5 * scale }, "\(function) H·v")
    }

    @Test func tasksAreReplayableAndFollowTheirProbabilities() {
        var distribution = AugmentedTaskDistribution()
        distribution.base = TaskDistribution(maximumDimension: 12)
        var g = Xoshiro256StarStar(seed: 9)
        let specs = (0..<2000).map { _ in distribution.sample(using: &g) }
        var again = Xoshiro256StarStar(seed: 9)
        #expect(specs == (0..<2000).map { _ in distribution.sample(using: &again) })
        // Binomial proportions over 2000 draws: standard error ≤ √(0.25/2000) ≈ 0.011; bounds at 4 standard errors.
        let quadratic = Double(specs.filter { if case .quadratic = $0.base { true } else { false } }.count) / 2000
        let rotated = Double(specs.filter { $0.rotationSeed != nil }.count) / 2000
        #expect(abs(quadratic - 0.2) < 0.045 && abs(rotated - 0.5) < 0.045, "\(quadratic) \(rotated)")
        // log10 σ is uniform on [−2, 2]: mean 0 (standard error 2/√3/√2000 ≈ 0.026).
        let meanLogScale = specs.map { log10($0.parameterScale) }.reduce(0, +) / 2000
        #expect(abs(meanLogScale) < 0.11 && specs.allSatisfy { (0.01...100).contains($0.parameterScale) })
        // Every task builds, its start has the base start's value (times a), and f* ≤ f(x₀).
        for spec in specs.prefix(200) {
            let (objective, x0, fStar) = distribution.build(spec)
            let f0 = objective.value(at: x0)
            #expect(f0.isFinite && f0 >= fStar - 1e-9 * abs(fStar), "\(spec)")
        }
    }

    @Test func configurationSelectsTheAugmentedFamily() throws {
        let json = #"{"taskFamily": "augmented", "augmentedTasks": {"rotationProbability": 1, "base": {"functions": ["Rosenbrock"], "maximumDimension": 8}}}"#
        let c = try TrainingConfiguration.decode(Data(json.utf8))
        try c.validate()
        #expect(c.augmentedTasks.rotationProbability == 1 && c.augmentedTasks.base.functions == [.rosenbrock])
        #expect(try MetaTrainingRun.taskFamily(c) is AugmentedTaskDistribution)
        var bad = c
        bad.augmentedTasks.rotationProbability = 1.5
        #expect(throws: MetaTrainingError.invalid("augmentedTasks.rotationProbability", "must be in [0, 1]")) { try bad.validate() }
        let typo = #"{"taskFamily": "augmented", "augmentedTasks": {"base": {"functions": ["rosenbrok"]}}}"#
        do {
            _ = try TrainingConfiguration.decode(Data(typo.utf8))
            Issue.record("accepted an unknown function name")
        } catch { #expect("\(error)".hasPrefix("augmentedTasks.base.functions")) }
    }
}

@Suite struct ShippedConfigurationTests {
    /// Every configuration in `configs/` and every ledger run's `config.json` decodes and validates (a renamed field
    /// or a typo would otherwise surface only when someone starts a long run).
    @Test func everyConfigurationInTheRepositoryIsValid() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        var files = try FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent("configs").path)
            .filter { $0.hasSuffix(".json") }.map { "configs/\($0)" }
        let ledger = root.appendingPathComponent("training")
        for run in (try? FileManager.default.contentsOfDirectory(atPath: ledger.path)) ?? [] {
            let file = "training/\(run)/config.json"
            if FileManager.default.fileExists(atPath: root.appendingPathComponent(file).path) { files.append(file) }
        }
        #expect(files.count >= 8)
        for file in files {
            let c = try TrainingConfiguration.decode(Data(contentsOf: root.appendingPathComponent(file)))
            #expect(throws: Never.self, "\(file)") { try c.validate() }
        }
    }
}

@Suite struct ConfigurationErrorTests {
    /// A bad validation field is named exactly (it used to be reported as "validation" for any of the three).
    @Test func badValidationFieldsAreNamed() {
        for (field, change) in [("validation.tasks", { (c: inout TrainingConfiguration) in c.validation.tasks = 0 }),
                                ("validation.steps", { (c: inout TrainingConfiguration) in c.validation.steps = -3 }),
                                ("validation.every", { (c: inout TrainingConfiguration) in c.validation.every = -1 })] {
            var c = TrainingConfiguration()
            change(&c)
            do {
                try c.validate()
                Issue.record("\(field) accepted")
            } catch { #expect("\(error)".hasPrefix(field + ":"), "\(error)") }
        }
    }
}

@Suite struct ObjectiveCacheTests {
    /// Built once per spec while it stays among the `capacity` newest; the oldest is evicted first and rebuilt when
    /// asked for again.
    @Test func buildsOncePerTaskAndEvictsTheOldest() {
        let cache = ObjectiveCache<Int>(capacity: 2)
        var builds: [Int] = []
        func get(_ k: Int) -> Int {
            cache.value(for: k) { key in
                builds.append(key)
                return ClosureObjective(dimension: key) { _, _ in 0 }
            }.dimension
        }
        #expect([1, 2, 1, 2, 3, 2, 1].map(get) == [1, 2, 1, 2, 3, 2, 1])
        #expect(builds == [1, 2, 3, 1])  // 3 evicted 1; asking for 1 again rebuilds it
    }
}

@Suite struct AugmentedStateTests {
    /// Both kinds of augmented task survive the training state's keyless binary coding (a synthesized enum coding did
    /// not: the state was written but could not be read back), and a run on the augmented family resumes
    /// bit-identically.
    @Test func augmentedTasksRoundTripAndRunsResume() throws {
        var distribution = AugmentedTaskDistribution()
        distribution.base = TaskDistribution(maximumDimension: 6)
        distribution.quadraticProbability = 0.5
        var g = Xoshiro256StarStar(seed: 5)
        let specs = (0..<40).map { _ in distribution.sample(using: &g) }
        #expect(specs.contains { if case .quadratic = $0.base { true } else { false } })
        #expect(specs.contains { if case .benchmark = $0.base { true } else { false } })
        #expect(try BinaryCoder.decode([AugmentedTaskSpec].self, from: BinaryCoder.encode(specs)) == specs)
        #expect(try JSONDecoder().decode([AugmentedTaskSpec].self, from: JSONEncoder().encode(specs)) == specs)

        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("augmented-\(UInt32.random(in: 0...UInt32.max))")
        defer { try? FileManager.default.removeItem(at: folder) }
        func config(_ steps: Int) -> TrainingConfiguration {
            var c = ExtendRunTests.config(steps: steps)
            c.taskFamily = "augmented"
            c.augmentedTasks = distribution
            return c
        }
        let extended = folder.appendingPathComponent("extended"), straight = folder.appendingPathComponent("straight")
        try MetaTrainingRun.run(configuration: config(2), output: extended, resume: false)
        try MetaTrainingRun.run(configuration: config(4), output: extended, resume: true)
        try MetaTrainingRun.run(configuration: config(4), output: straight, resume: false)
        let a = try Checkpoint.read(from: extended.appendingPathComponent("adafactor-mlp.safetensors"))
        let b = try Checkpoint.read(from: straight.appendingPathComponent("adafactor-mlp.safetensors"))
        #expect(a.parameters.map(\.bitPattern) == b.parameters.map(\.bitPattern))
    }
}

@Suite struct BinaryCoderOptionalTests {
    struct Record: Codable, Equatable {
        var a: Int?
        var b: Double?
        var c: UInt64?
        var d: String?
        var e: Bool?
        var f: [Double]?
        var g: Float
    }

    /// Optional primitives, present or nil, round-trip: the keyed container's own overloads for them used to write
    /// nothing for nil, so the next field was read in its place.
    @Test func optionalPrimitivesRoundTrip() throws {
        let values = [Record(a: nil, b: nil, c: nil, d: nil, e: nil, f: nil, g: 1.5),
                      Record(a: -3, b: 2.5, c: 7, d: "x", e: false, f: [1, 2], g: -0.25),
                      Record(a: nil, b: .infinity, c: nil, d: "", e: true, f: [], g: 0)]
        #expect(try BinaryCoder.decode([Record].self, from: BinaryCoder.encode(values)) == values)
    }
}
