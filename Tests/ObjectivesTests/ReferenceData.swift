import Foundation
@testable import Objectives

/// `test-functions-reference.json`, the project's reference data for the benchmark functions: f and analytic ∇f of
/// the 15 functions (and Powell) at fixed points, computed independently of the Swift code by a separate float64 NumPy
/// implementation of the SFU formulas. Schema and provenance: `docs/reference-data.md`.
struct ReferenceFile: Decodable {
    struct Record: Decodable, Sendable, CustomStringConvertible {
        var function: String
        var d: Int
        var point: String
        var x: [Double]
        var f: Double
        var grad: [Double]
        var description: String { "\(function) d=\(d) \(point)" }
    }
    struct Spot: Decodable, Sendable, CustomStringConvertible {
        var function: String
        var d: Int
        var f: Double
        var grad_l2: Double
        var grad_first3: [Double]
        var grad_last: Double
        var description: String { "\(function) d=\(d)" }
    }
    struct SpotValues: Decodable { var values: [Spot] }
    struct Meta: Decodable { var fstar: [String: [String: Double]] }

    var meta: Meta
    var records: [Record]
    var alternate_records: [Record]
    var spot_values: SpotValues

    static let shared: ReferenceFile = {
        guard let url = Bundle.module.url(forResource: "test-functions-reference", withExtension: "json",
                                          subdirectory: "Resources"),
              let data = try? Data(contentsOf: url),
              let file = try? JSONDecoder().decode(ReferenceFile.self, from: data)
        else { preconditionFailure("test resource test-functions-reference.json is missing or malformed") }
        return file
    }()
}

/// |a − b| ≤ absolute, or ≤ relative·max(|a|, |b|).
func close(_ a: Double, _ b: Double, relative: Double, absolute: Double) -> Bool {
    let diff = abs(a - b)
    return diff <= absolute || diff <= relative * max(abs(a), abs(b))
}

extension BenchmarkFunction {
    /// The function named in the reference file.
    static func reference(_ name: String) -> BenchmarkFunction {
        guard let f = BenchmarkFunction(rawValue: name) else { preconditionFailure("unknown function \(name)") }
        return f
    }
}
