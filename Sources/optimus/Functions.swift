import ArgumentParser
import OptimusKit

/// `optimus functions`: the benchmark functions with their domain and f*(d).
struct Functions: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List the benchmark functions with domain, minimizer and f*(d).")

    @Option(help: "Dimensions at which to report f* (comma-separated).")
    var dimensions: String = "2,10,100,250,500,1000"

    @OptionGroup var format: JSONOutputOption

    struct Entry: Encodable {
        var name: String
        var displayName: String
        var inPaperSuite: Bool
        var validDimensions: String
        var minimizer: String
        var domain: [String: [Double]]
        var fStar: [String: Double]
    }

    func parsedDimensions() throws -> [Int] {
        let parts = dimensions.split(separator: ",")
        let ds = parts.compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !parts.isEmpty, ds.count == parts.count, ds.allSatisfy({ $0 >= 2 && $0 <= BenchmarkObjective.maximumDimension })
        else {
            throw ValidationError(
                "dimensions: '\(dimensions)' must be comma-separated integers between 2 and \(BenchmarkObjective.maximumDimension)")
        }
        return ds
    }

    func validate() throws { _ = try parsedDimensions() }

    func run() throws {
        let ds = try parsedDimensions()
        var entries: [Entry] = []
        for f in BenchmarkFunction.allCases {
            var domain: [String: [Double]] = [:]
            var fStar: [String: Double] = [:]
            for d in ds where f.isValid(dimension: d) {
                let r = f.domain(dimension: d)
                domain[String(d)] = [r.lowerBound, r.upperBound]
                fStar[String(d)] = f.fStar(dimension: d)
            }
            entries.append(Entry(name: f.rawValue, displayName: f.displayName,
                                 inPaperSuite: BenchmarkFunction.paperSuite.contains(f),
                                 validDimensions: f.validDimensions, minimizer: f.minimizerDescription, domain: domain, fStar: fStar))
        }
        if format.json {
            struct Output: Encodable { var functions: [Entry] }
            try printJSON(Output(functions: entries))
            return
        }
        let header = pad("name", 25) + pad("domain (d=\(ds[0]))", 24) + ds.map { pad("f*(\($0))", 16, right: true) }.joined()
            + "  minimizer x*"
        print(header)
        for e in entries {
            let dom = e.domain[String(ds[0])].map { "[\(fmt($0[0])), \(fmt($0[1]))]" } ?? "-"
            let stars = ds.map { d in pad(e.fStar[String(d)].map(fmt) ?? "-", 16, right: true) }.joined()
            print(pad(e.name + (e.inPaperSuite ? "" : " (extra)"), 25) + pad(dom, 24) + stars + "  " + e.minimizer)
        }
    }
}
