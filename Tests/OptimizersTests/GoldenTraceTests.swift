import Foundation
import Objectives
import Testing
@testable import Optimizers

/// Golden traces from an independent NumPy implementation (`scripts/golden_traces.py`, versions in the file).
struct GoldenTraces: Decodable {
    struct Case: Decodable, Sendable, CustomTestStringConvertible {
        var name: String
        var optimizer: String
        var parameters: [String: Double]
        var function: String
        var x0: [Double]
        var iterates: [[Double]]
        var values: [Double]
        var testDescription: String { name }
    }
    struct QuadraticSpec: Decodable { var a: [Double]; var c: [Double] }
    var quadratic: QuadraticSpec
    var cases: [Case]

    static let shared: GoldenTraces = {
        guard let url = Bundle.module.url(forResource: "golden-traces", withExtension: "json", subdirectory: "Resources"),
              let data = try? Data(contentsOf: url),
              let traces = try? JSONDecoder().decode(GoldenTraces.self, from: data)
        else { preconditionFailure("test resource golden-traces.json is missing or malformed") }
        return traces
    }()
}

@Suite struct GoldenTraceTests {
    @Test(arguments: GoldenTraces.shared.cases)
    func firstTwentyIteratesMatchTheReference(_ c: GoldenTraces.Case) throws {
        #expect(c.iterates.count == 20 && c.values.count == 21)
        let objective: any Objective = c.function == "rosenbrock"
            ? try BenchmarkObjective(.rosenbrock, dimension: c.x0.count)
            : Quadratic(a: GoldenTraces.shared.quadratic.a, c: GoldenTraces.shared.quadratic.c)
        let p = c.parameters
        let optimizer: AnyOptimizer = switch c.optimizer {
        case "adam": AnyOptimizer(Adam(learningRate: p["learningRate"]!, beta1: p["beta1"]!, beta2: p["beta2"]!,
                                       epsilon: p["epsilon"]!))
        case "momentum": AnyOptimizer(Momentum(learningRate: p["learningRate"]!, momentum: p["momentum"]!))
        default: AnyOptimizer(GradientDescent(learningRate: p["learningRate"]!))
        }
        let r = try minimize(objective, from: c.x0, using: optimizer,
                             options: .init(maxIterations: 20, gradientTolerance: 0, recordTrace: true,
                                            recordIterates: true))
        let trace = try #require(r.trace)
        #expect(trace.count == 21)
        var worst = 0.0
        for k in 1...20 {
            let x = try #require(trace[k].x)
            for i in x.indices {
                worst = max(worst, abs(x[i] - c.iterates[k - 1][i]) / max(1, abs(c.iterates[k - 1][i])))
            }
        }
        for k in 0...20 { worst = max(worst, abs(trace[k].value - c.values[k]) / max(1, abs(c.values[k]))) }
        #expect(worst <= 1e-12, "\(c.name): largest relative difference \(worst)")
    }
}
