import Foundation
import Objectives
import Optimizers
import OptimusNumerics
import Testing
@testable import OptimusServer

func parse(_ line: String) throws -> [String: JSONValue] {
    try #require(try JSONValue.parse(line).object)
}

func doubles(_ v: JSONValue?) -> [Double] { (v?.array ?? []).map { $0.number ?? .nan } }

/// Drives a server with an in-process objective, like a client would.
func serve(_ objective: some Objective, x0: [Double], optimizer: String, options: String = "{}",
           server: ProtocolServer = ProtocolServer()) throws -> [String: JSONValue] {
    var response = try parse(server.handle(line:
        "{\"type\":\"start\",\"protocol\":1,\"optimizer\":\"\(optimizer)\",\"x0\":\(JSONNumbers.array(x0)),\"options\":\(options)}"))
    while response["type"]?.string == "evaluate" {
        let id = try #require(response["id"]?.integer)
        let (f, g) = objective.valueAndGradient(at: doubles(response["x"]))
        response = try parse(server.handle(line:
            "{\"type\":\"evaluation\",\"id\":\(id),\"value\":\(JSONNumbers.number(f)),\"gradient\":\(JSONNumbers.array(g))}"))
    }
    return response
}

@Suite struct ProtocolServerTests {
    @Test(arguments: ["lbfgs", "bfgs", "adam", "momentum", "gd"])
    func serverRunsAreBitIdenticalToMinimize(optimizer: String) throws {
        let objective = try BenchmarkObjective(.rosenbrock, dimension: 10)
        var g = Xoshiro256StarStar(seed: 3)
        let x0 = objective.randomStart(using: &g)
        let options = "{\"maxIterations\":80,\"iterates\":true}"
        let served = try serve(objective, x0: x0, optimizer: optimizer, options: options)
        #expect(served["type"]?.string == "result")
        let direct = try minimize(objective, from: x0, using: try OptimizerCatalog.classical(named: optimizer),
                                  options: .init(maxIterations: 80, recordTrace: true, recordIterates: true))
        #expect(doubles(served["x"]) == direct.x)
        #expect(served["value"]?.number == direct.value)
        #expect(served["functionEvaluations"]?.integer == direct.functionEvaluations)
        #expect(served["termination"]?.string == direct.termination.rawValue)
        let traceArray = try #require(served["trace"]?.array)
        let trace = traceArray.compactMap { $0.object }
        let directTrace = try #require(direct.trace)
        #expect(trace.count == directTrace.count)
        for (a, b) in zip(trace, directTrace) {
            #expect(doubles(a["x"]) == b.x!)
            #expect(a["value"]?.number == b.value)
        }
    }

    @Test func base64VectorsRoundTripAndDriveARun() throws {
        var g = Xoshiro256StarStar(seed: 8)
        let x = (0..<257).map { _ in g.normal() * 1e10 } + [-0.0, .leastNonzeroMagnitude, .greatestFiniteMagnitude]
        #expect(Base64Vector.decode(Base64Vector.encode(x))?.map(\.bitPattern) == x.map(\.bitPattern))
        #expect(Base64Vector.decode("AAAA") == nil)  // 3 bytes: not a whole float64
        let server = ProtocolServer()
        let start = try parse(server.handle(line: "{\"type\":\"start\",\"protocol\":1,\"optimizer\":\"gd\","
            + "\"encoding\":\"base64\",\"x0\":\"\(Base64Vector.encode([1, 2]))\"}"))
        #expect(Base64Vector.decode(try #require(start["x"]?.string)) == [1, 2])
        let next = try parse(server.handle(line: "{\"type\":\"evaluation\",\"id\":1,\"value\":5,"
            + "\"gradient\":\"\(Base64Vector.encode([2, 4]))\"}"))
        let expected: [Double] = [1 - 1e-3 * 2, 2 - 1e-3 * 4]
        #expect(Base64Vector.decode(try #require(next["x"]?.string)) == expected)
        let bad = try parse(server.handle(line: "{\"type\":\"evaluation\",\"id\":2,\"value\":5,\"gradient\":\"@@\"}"))
        #expect(bad["type"]?.string == "error" && bad["field"]?.string == "gradient")
    }

    @Test func numbersRoundTripExactly() throws {
        // Shortest round-trip decimals: parsing what the server printed gives the same bits.
        var g = Xoshiro256StarStar(seed: 1)
        let values = (0..<2000).map { _ in Double(bitPattern: g.next() & 0x7FEF_FFFF_FFFF_FFFF | (g.next() & (1 << 63))) }
            + [0.1, 1e-300, Double.leastNonzeroMagnitude, 1.7976931348623157e308, -0.0]
        let text = JSONNumbers.array(values)
        let parsed = doubles(try JSONValue.parse(text))
        #expect(parsed.map(\.bitPattern) == values.map(\.bitPattern))
    }

    @Test func nullValuesAreNotEvaluable() throws {
        // BFGS backs off from a point reported as not evaluable.
        let quadratic = ClosureObjective(dimension: 2) { x, g in
            g[0] = 2 * x[0]; g[1] = 2 * x[1]
            return x[0] * x[0] + x[1] * x[1]
        }
        let server = ProtocolServer()
        var r = try parse(server.handle(line: "{\"type\":\"start\",\"protocol\":1,\"optimizer\":\"bfgs\",\"x0\":[3,4]}"))
        var nullsSent = 0
        while r["type"]?.string == "evaluate" {
            let x = doubles(r["x"])
            let id = try #require(r["id"]?.integer)
            if x.contains(where: { abs($0) > 3.5 }) && id > 1 {
                nullsSent += 1
                r = try parse(server.handle(line: "{\"type\":\"evaluation\",\"id\":\(id),\"value\":null,\"gradient\":[null,null]}"))
            } else {
                let (f, grad) = quadratic.valueAndGradient(at: x)
                r = try parse(server.handle(line:
                    "{\"type\":\"evaluation\",\"id\":\(id),\"value\":\(f),\"gradient\":\(JSONNumbers.array(grad))}"))
            }
        }
        #expect(r["type"]?.string == "result")
        #expect((r["value"]?.number ?? 1) < 1e-12)
    }

    @Test(arguments: [
        ("{\"type\":\"start\",\"protocol\":2,\"optimizer\":\"bfgs\",\"x0\":[1]}", "protocol"),
        ("{\"type\":\"start\",\"protocol\":1,\"optimizer\":\"newton\",\"x0\":[1]}", "optimizer"),
        ("{\"type\":\"start\",\"protocol\":1,\"optimizer\":\"bfgs\",\"x0\":[]}", "x0"),
        ("{\"type\":\"start\",\"protocol\":1,\"optimizer\":\"bfgs\",\"x0\":[1,\"a\"]}", "x0"),
        ("{\"type\":\"start\",\"protocol\":1,\"optimizer\":\"bfgs\",\"x0\":[1],\"colour\":3}", "colour"),
        ("{\"type\":\"start\",\"protocol\":1,\"optimizer\":\"adam\",\"x0\":[1],\"options\":{\"learningRate\":-1}}",
         "options.learningRate"),
        ("{\"type\":\"start\",\"protocol\":1,\"optimizer\":\"bfgs\",\"x0\":[1],\"options\":{\"maxIterations\":1.5}}",
         "options.maxIterations"),
        ("{\"type\":\"start\",\"protocol\":1,\"optimizer\":\"bfgs\",\"x0\":[1],\"options\":{\"tolerance\":1}}",
         "options.tolerance"),
        ("{\"type\":\"evaluation\",\"id\":1,\"value\":1,\"gradient\":[1]}", "type"),
        ("{\"type\":\"jump\"}", "type"),
        ("[1,2,3]", nil),
        ("{\"type\":\"start\",\"protocol\":1,\"optimizer\":\"bfgs\",\"x0\":[1e400]}", nil),
    ] as [(String, String?)])
    func badMessagesGetAnErrorNamingTheField(line: String, field: String?) throws {
        let response = try parse(ProtocolServer().handle(line: line))
        #expect(response["type"]?.string == "error", "\(line)")
        #expect(response["field"]?.string == field, "\(line): \(response)")
        let message = response["message"]?.string ?? ""
        #expect(!message.isEmpty)
    }

    @Test func evaluationErrorsKeepTheRunAlive() throws {
        let server = ProtocolServer()
        _ = server.handle(line: "{\"type\":\"start\",\"protocol\":1,\"optimizer\":\"gd\",\"x0\":[1,2]}")
        for bad in ["{\"type\":\"evaluation\",\"id\":2,\"value\":1,\"gradient\":[1,1]}",
                    "{\"type\":\"evaluation\",\"id\":1,\"value\":1,\"gradient\":[1]}",
                    "{\"type\":\"evaluation\",\"id\":1,\"value\":\"1\",\"gradient\":[1,1]}",
                    "{\"type\":\"evaluation\",\"id\":true,\"value\":1,\"gradient\":[1,1]}",
                    "{\"type\":\"start\",\"protocol\":1,\"optimizer\":\"gd\",\"x0\":[1,2]}"] {
            let r = try parse(server.handle(line: bad))
            #expect(r["type"]?.string == "error" && r["pending"]?.integer == 1, "\(bad)")
        }
        let ok = try parse(server.handle(line: "{\"type\":\"evaluation\",\"id\":1,\"value\":5,\"gradient\":[2,4]}"))
        #expect(ok["type"]?.string == "evaluate" && ok["id"]?.integer == 2)
        let expected: [Double] = [1 - 1e-3 * 2, 2 - 1e-3 * 4]
        #expect(doubles(ok["x"]) == expected)
    }
}

@Suite struct ProtocolFuzzTests {
    /// 100 000 random and mutated messages: every line gets exactly one JSON object with a type, no crash, no hang.
    @Test func fuzzEveryLineIsAnswered() throws {
        var g = Xoshiro256StarStar(seed: 2026)
        let server = ProtocolServer()
        let seeds = [
            "{\"type\":\"start\",\"protocol\":1,\"optimizer\":\"lbfgs\",\"x0\":[1,2,3],\"options\":{\"maxIterations\":5}}",
            "{\"type\":\"start\",\"protocol\":1,\"optimizer\":\"adam\",\"x0\":[0.5],\"options\":{\"learningRate\":0.1,\"stoppingRule\":true}}",
            "{\"type\":\"evaluation\",\"id\":1,\"value\":3.5,\"gradient\":[1,2,3]}",
            "{\"type\":\"evaluation\",\"id\":2,\"value\":null,\"gradient\":[null,1,2]}",
            "{\"type\":\"cancel\"}",
            "{\"type\":\"start\",\"protocol\":1,\"optimizer\":\"optimus\",\"preset\":\"small\",\"x0\":[1,2]}",
        ]
        let fragments = ["{", "}", "[", "]", ",", ":", "\"", "null", "true", "-", "1e308", "1e999", "NaN", "-0",
                         "\"type\"", "\"id\"", "\"x0\"", "\\u0000", "9999999999999999999999", "\u{FFFD}", " "]
        var answered = 0
        let n = 100_000
        for i in 0..<n {
            var line: String
            switch g.nextInt(below: 6) {
            case 0:  // a valid message, possibly for the wrong state
                line = seeds[g.nextInt(below: seeds.count)]
            case 1:  // truncated
                let s = seeds[g.nextInt(below: seeds.count)]
                line = String(s.prefix(g.nextInt(below: s.count)))
            case 2:  // mutated bytes
                var bytes = Array(seeds[g.nextInt(below: seeds.count)].utf8)
                for _ in 0..<(1 + g.nextInt(below: 4)) {
                    bytes[g.nextInt(below: bytes.count)] = UInt8(truncatingIfNeeded: g.next())
                }
                line = String(decoding: bytes, as: UTF8.self)
            case 3:  // random fragments
                line = (0..<(1 + g.nextInt(below: 12))).map { _ in fragments[g.nextInt(below: fragments.count)] }.joined()
            case 4:  // wrong types and ids, huge and non-finite numbers
                let id = ["1", "-1", "0", "1.5", "\"1\"", "1e300", "true", "null"][g.nextInt(below: 8)]
                let value = ["1", "1e308", "-1e308", "null", "\"NaN\"", "[]", "{}"][g.nextInt(below: 7)]
                line = "{\"type\":\"evaluation\",\"id\":\(id),\"value\":\(value),\"gradient\":[1,2,3]}"
            default:  // very long lines
                let count = i % 500 == 0 ? 200_000 : 1000
                line = "{\"type\":\"evaluation\",\"id\":1,\"value\":1,\"gradient\":["
                    + Array(repeating: "1.5", count: count).joined(separator: ",") + "]}"
            }
            let response = server.handle(line: line)
            #expect(!response.contains("\n"))
            if let o = try? JSONValue.parse(response).object, let type = o["type"]?.string,
               ["evaluate", "result", "error"].contains(type) {
                answered += 1
            } else {
                Issue.record("line \(i) got an invalid response: \(response.prefix(200))")
            }
        }
        #expect(answered == n)
    }
}
