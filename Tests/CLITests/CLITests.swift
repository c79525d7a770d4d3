import Foundation
import Testing

/// Runs the built `optimus` binary (it sits next to the test bundle in the build folder).
struct CLI {
    static var binary: URL {
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        // On Linux the test runner is <build>/debug/<package>PackageTests.xctest; on macOS it is inside a bundle.
        for _ in 0..<4 {
            let candidate = dir.appendingPathComponent("optimus")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            dir.deleteLastPathComponent()
        }
        return URL(fileURLWithPath: ".build/debug/optimus")
    }

    struct Output {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    static func run(_ arguments: [String]) throws -> Output {
        let p = Process()
        p.executableURL = binary
        p.arguments = arguments
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return Output(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self),
                      stderr: String(decoding: e, as: UTF8.self))
    }

    static func json(_ arguments: [String]) throws -> [String: Any] {
        let r = try run(arguments)
        #expect(r.status == 0, "\(arguments): \(r.stderr)")
        let object = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8))
        return try #require(object as? [String: Any])
    }
}

@Suite(.serialized) struct CLITests {
    @Test func minimizeSphere1000WithLBFGSPrintsValidJSON() throws {
        let j = try CLI.json(["minimize", "--function", "sphere", "--dimension", "1000", "--optimizer", "lbfgs", "--json"])
        let required = ["function", "dimension", "optimizer", "seed", "initialValue", "finalValue", "bestValue", "fStar",
                        "iterations", "functionEvaluations", "gradientEvaluations", "termination", "seconds"]
        for key in required { #expect(j[key] != nil, "missing key \(key)") }
        let final = try #require(j["finalValue"] as? Double)
        #expect(final < 1e-10)
        #expect(j["function"] as? String == "sphere" && j["dimension"] as? Int == 1000)
        #expect((j["initialValue"] as? Double ?? 0) > 1000)
    }

    @Test func seedsAreReproducible() throws {
        let args = ["minimize", "--function", "rosenbrock", "--dimension", "5", "--optimizer", "adam",
                    "--learning-rate", "0.01", "--iterations", "50", "--seed", "3", "--json"]
        let a = try CLI.json(args), b = try CLI.json(args)
        #expect(a["finalValue"] as? Double == b["finalValue"] as? Double)
        #expect(a["iterations"] as? Int == 50 && a["functionEvaluations"] as? Int == 51)
    }

    @Test func learnedOptimizersLoadTheShippedCheckpointsByDefault() throws {
        for name in ["optimus", "adafactor-mlp"] {
            let r = try CLI.run(["minimize", "--function", "rosenbrock", "--dimension", "20", "--optimizer", name,
                                 "--iterations", "50", "--json"])
            #expect(r.status == 0, "\(name): \(r.stderr)")
            #expect(!r.stderr.contains("untrained"), "\(name) did not find checkpoints/: \(r.stderr)")
            let j = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
            let best = try #require(j?["bestValue"] as? Double), initial = try #require(j?["initialValue"] as? Double)
            #expect(best < initial)
        }
    }

    @Test func functionsListsAllSixteenWithFStar() throws {
        let j = try CLI.json(["functions", "--json"])
        let functions = try #require(j["functions"] as? [[String: Any]])
        #expect(functions.count == 16)
        let trid = try #require(functions.first { $0["name"] as? String == "trid" })
        let fStar = try #require(trid["fStar"] as? [String: Double])
        #expect(fStar["1000"] == -167_166_000)
    }

    @Test(arguments: [
        (["minimize", "--function", "nope", "--dimension", "5", "--optimizer", "bfgs"], "rosenbrock"),
        (["minimize", "--function", "sphere", "--dimension", "1", "--optimizer", "bfgs"], "dimension"),
        (["minimize", "--function", "powell", "--dimension", "6", "--optimizer", "bfgs"], "multiple of 4"),
        (["minimize", "--function", "sphere", "--dimension", "5", "--optimizer", "newton"], "lbfgs"),
        (["minimize", "--function", "sphere", "--dimension", "5", "--optimizer", "adam", "--learning-rate", "-1"],
         "learning-rate"),
        (["minimize", "--function", "sphere", "--dimension", "5", "--optimizer", "bfgs", "--iterations", "-3"],
         "iterations"),
        (["minimize", "--function", "sphere", "--dimension", "5", "--optimizer", "bfgs", "--x0", "/nonexistent/x0.json"],
         "x0"),
        (["minimize", "--function", "sphere", "--dimension", "100000", "--optimizer", "lbfgs"], "at most"),
    ])
    func badUsageExits64NamingTheField(arguments: [String], mentions: String) throws {
        let r = try CLI.run(arguments)
        #expect(r.status == 64, "\(arguments): status \(r.status), \(r.stderr)")
        #expect(r.stderr.contains(mentions), "\(arguments): \(r.stderr)")
    }

    @Test func badStartFilesExit65() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("optimus-cli-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let short = dir.appendingPathComponent("short.json")
        try Data("[1, 2]".utf8).write(to: short)
        let garbage = dir.appendingPathComponent("garbage.txt")
        try Data("1 2 three 4 5".utf8).write(to: garbage)
        let good = dir.appendingPathComponent("good.txt")
        try Data("1, 2, 3\n4 5".utf8).write(to: good)
        let base = ["minimize", "--function", "sphere", "--dimension", "5", "--optimizer", "bfgs", "--x0"]
        let r1 = try CLI.run(base + [short.path])
        #expect(r1.status == 65 && r1.stderr.contains("x0") && r1.stderr.contains("expected 5"))
        let r2 = try CLI.run(base + [garbage.path])
        #expect(r2.status == 65 && r2.stderr.contains("three"))
        let j = try CLI.json(base + [good.path, "--json"])
        #expect(j["initialValue"] as? Double == 55)
    }
}
