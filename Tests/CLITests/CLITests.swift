import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
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
            // The output names the file it loaded.
            let checkpoint = try #require(j?["checkpoint"] as? String)
            #expect(checkpoint.contains("checkpoints/\(name)-functions.safetensors"), "\(checkpoint)")
        }
    }

    @Test func missingInputFilesExit66WithTheReason() throws {
        let cases: [([String], String)] = [
            (["minimize", "--function", "sphere", "--dimension", "5", "--optimizer", "bfgs", "--x0", "/nonexistent/x0.json"],
             "x0: cannot read '/nonexistent/x0.json': No such file or directory"),
            (["minimize", "--function", "sphere", "--dimension", "5", "--optimizer", "optimus", "--checkpoint",
              "/nonexistent/o.safetensors"], "checkpoint: cannot read '/nonexistent/o.safetensors': No such file"),
            (["minimize", "--function", "sphere", "--dimension", "5", "--optimizer", "optimus", "--checkpoint", "/tmp"],
             "is a folder"),
            (["train", "--config", "/nonexistent/c.json", "--output", "/tmp/never"], "config: cannot read"),
        ]
        for (arguments, message) in cases {
            let r = try CLI.run(arguments)
            #expect(r.status == 66, "\(arguments): status \(r.status), \(r.stderr)")
            #expect(r.stderr.contains(message), "\(arguments): \(r.stderr)")
        }
    }

    /// The demo compares classical and learned optimizers in one table, names the checkpoints, and its winners are
    /// the cells with the lowest mean gap.
    @Test func demoComparesClassicalAndLearnedOptimizers() throws {
        let j = try CLI.json(["demo", "--starts", "2", "--problems", "sphere:5,rosenbrock:5", "--iterations", "30",
                              "--json"])
        let checkpoints = try #require(j["checkpoints"] as? [String: String])
        #expect(checkpoints["optimus"]?.contains("optimus-functions.safetensors") == true, "\(checkpoints)")
        #expect(checkpoints["adafactor-mlp"]?.contains("adafactor-mlp-functions.safetensors") == true)
        let comparison = try #require(j["comparison"] as? [String: Any])
        let solvers = try #require(comparison["solvers"] as? [String])
        for s in ["optimus", "adafactor-mlp", "adam", "lbfgs"] { #expect(solvers.contains(s)) }
        let rows = try #require(comparison["rows"] as? [[String: Any]])
        #expect(rows.count == 2)
        for row in rows {
            let cells = try #require(row["cells"] as? [[String: Any]])
            let gaps = cells.compactMap { $0["meanGap"] as? Double }
            #expect(gaps.count == solvers.count && gaps.allSatisfy { $0 >= 0 })
            let winners = try #require(row["winners"] as? [String])
            let best = try #require(gaps.min())
            let expected = zip(solvers, gaps).filter { $0.1 <= best + 1e-8 }.map(\.0)
            #expect(winners == expected, "\(row)")
        }
    }

    @Test func functionsListsAllSixteenWithFStar() throws {
        let j = try CLI.json(["functions", "--json"])
        let functions = try #require(j["functions"] as? [[String: Any]])
        #expect(functions.count == 16)
        let trid = try #require(functions.first { $0["name"] as? String == "trid" })
        let fStar = try #require(trid["fStar"] as? [String: Double])
        #expect(fStar["1000"] == -167_166_000)
        #expect(trid["minimizer"] as? String == "xᵢ = i(d + 1 − i)")
    }

    /// `heldout --functions heldout` on a tiny setting: one table per held-out function (all ten), a checkpoint
    /// compared with the baselines, winners marked, and the JSON form decodes with one problem per function.
    @Test func heldoutFunctionsListsAllTenAndPrintsJSON() throws {
        let checkpoint = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("checkpoints/optimus-functions.safetensors").path
        let base = ["heldout", "--functions", "heldout", "--dimensions", "5", "--starts", "1", "--budget", "8",
                    "--checkpoint", checkpoint]
        let text = try CLI.run(base)
        #expect(text.status == 0, "\(text.stderr)")
        for name in ["Qing", "Salomon", "Exponential", "Brown", "Cosine Mixture", "Chung-Reynolds", "Quartic",
                     "Schaffer F6", "Broyden Tridiagonal", "Trigonometric"] {
            #expect(text.stdout.contains("## \(name), d = 5"), "no table for \(name)")
        }
        #expect(text.stdout.contains("| adam (tuned) |") && text.stdout.contains("| lbfgs |"))
        #expect(text.stdout.contains("**winner**"))
        #expect(text.stdout.contains("optimus-functions.safetensors: beats tuned Adam on "))

        let j = try CLI.json(base + ["--json"])
        #expect(j["functions"] as? String == "heldout" && j["budget"] as? Int == 8 && j["seed"] as? Int == 4242)
        #expect(j["solvers"] as? [String] == ["optimus-functions.safetensors", "adam (tuned)", "lbfgs"])
        let problems = try #require(j["problems"] as? [[String: Any]])
        #expect(problems.count == 10)
        #expect(Set(problems.compactMap { $0["function"] as? String }).count == 10)
        for p in problems {
            #expect(p["dimension"] as? Int == 5)
            let cells = try #require(p["cells"] as? [[String: Any]])
            #expect(cells.count == 3)
            #expect((p["runs"] as? [Any])?.count == 1 && (p["adamLearningRates"] as? [Double])?.count == 1)
            let winners = try #require(p["winners"] as? [String])
            #expect(!winners.isEmpty, "\(p)")
        }
        let summary = try #require(j["summary"] as? [[String: Any]])
        #expect(summary.count == 1 && summary.first?["problems"] as? Int == 10)
        // Reproducible from the recorded seed: the same JSON, byte for byte (keys are sorted).
        let first = try CLI.run(base + ["--json"]), second = try CLI.run(base + ["--json"])
        #expect(first.status == 0 && first.stdout == second.stdout)

        let wrongMode = try CLI.run(["heldout", "--dimensions", "5"])
        #expect(wrongMode.status == 64 && wrongMode.stderr.contains("dimensions"), "\(wrongMode.stderr)")
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
        (["minimize", "--function", "sphere", "--dimension", "-5", "--optimizer", "bfgs"], "dimension: -5"),
        (["minimize", "--function", "sphere", "--dimension", "5", "--optimizer", "bfgs", "--seed", "-1"],
         "integer in 0…"),
        (["minimize", "--function", "sphere", "--dimension", "5", "--optimizer", "adam", "--learning-rate", "-0.5"],
         "learning-rate: -0.5"),
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

/// The quick suite end to end through the built binary: evaluate → interrupt → resume → report (with the shipped
/// checkpoints), as CI runs it.
@Suite(.serialized) struct EvaluateCLITests {
    @Test func quickSuiteEvaluatesResumesAndReports() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("optimus-quick-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("eval").path
        let first = try CLI.run(["evaluate", "--suite", "quick", "--output", out])
        #expect(first.status == 0, "\(first.stderr)")
        let recordsURL = URL(fileURLWithPath: out).appendingPathComponent("records.jsonl")
        let lines = try String(contentsOf: recordsURL, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 6 * 6 * 4)  // problems × solvers × starts
        let tuning = try String(contentsOfFile: out + "/tuning.jsonl", encoding: .utf8).split(separator: "\n")
        #expect(tuning.count == 6 * 2)

        // Interrupted: keep 50 records and half of the 51st, then resume.
        let kept = lines.prefix(50).joined(separator: "\n") + "\n" + lines[50].prefix(40)
        try kept.write(to: recordsURL, atomically: true, encoding: .utf8)
        let resumed = try CLI.run(["evaluate", "--suite", "quick", "--output", out])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        let after = try String(contentsOf: recordsURL, encoding: .utf8).split(separator: "\n")
        #expect(after.count == lines.count)
        #expect(Array(after.prefix(50)) == Array(lines.prefix(50)))
        // The redone runs are the same runs (seeded): same traces, whatever their order in the file.
        func traces(_ ls: [Substring]) throws -> [String: [Double]] {
            var out: [String: [Double]] = [:]
            for l in ls {
                let o = try #require(try JSONSerialization.jsonObject(with: Data(l.utf8)) as? [String: Any])
                let key = "\(o["problem"]!)|\(o["solver"]!)|\(o["start"]!)"
                out[key] = (o["best"] as? [Any])?.compactMap { ($0 as? NSNumber)?.doubleValue }
            }
            return out
        }
        #expect(try traces(after) == traces(lines))

        // Report, with a README section.
        let readme = dir.appendingPathComponent("README.md")
        try "# x\n\n<!-- evaluation-results:begin -->\nold\n<!-- evaluation-results:end -->\n\ntail\n"
            .write(to: readme, atomically: true, encoding: .utf8)
        let summary = try CLI.json(["report", out, "--readme", readme.path, "--json"])
        #expect(summary["completeProblems"] as? Int == 6 && summary["runs"] as? Int == 144)
        let claims = try #require(summary["claims"] as? [String: Any])
        #expect((claims["rhoAtOne"] as? [String: Any])?.count == 5)
        let report = try String(contentsOfFile: out + "/report.md", encoding: .utf8)
        for section in ["## Headline claims", "## Performance profiles", "## Iterations to reach the baselines",
                        "## Generalization over dimension", "## Step directions", "## Mean best value per problem",
                        "## Tuned learning rates", "sha256"] {
            #expect(report.contains(section), "report.md lacks \(section)")
        }
        for figure in (summary["figures"] as? [String]) ?? [] {
            #expect(FileManager.default.fileExists(atPath: out + "/" + figure))
        }
        let text = try String(contentsOf: readme, encoding: .utf8)
        #expect(!text.contains("\nold\n") && text.contains("Results on the paper's benchmark") && text.hasSuffix("tail\n"))
    }

    @Test func badSuitesAreRejectedNamingTheField() throws {
        let unknown = try CLI.run(["evaluate", "--suite", "nosuch", "--output", "/tmp/never"])
        #expect(unknown.status == 64 && unknown.stderr.contains("suite:"))
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("suite-\(UUID().uuidString).json")
        defer { try? FileManager.default.removeItem(at: file) }
        try #"{"problems":[{"function":"rosenbrock","dimension":10}],"budget":5}"#.write(to: file, atomically: true, encoding: .utf8)
        let bad = try CLI.run(["evaluate", "--suite", file.path, "--output", "/tmp/never"])
        #expect(bad.status == 65 && bad.stderr.contains("budget"), "\(bad.stderr)")
        // A folder that does not exist is a missing input (66); one without suite.json is not an evaluation (65).
        let noFolder = try CLI.run(["report", "/tmp/definitely-not-an-evaluation"])
        #expect(noFolder.status == 66 && noFolder.stderr.contains("not an existing folder"), "\(noFolder.stderr)")
        let empty = FileManager.default.temporaryDirectory.appendingPathComponent("empty-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: empty) }
        let notEvaluation = try CLI.run(["report", empty.path])
        #expect(notEvaluation.status == 65 && notEvaluation.stderr.contains("suite.json"), "\(notEvaluation.stderr)")
    }
}

@Suite(.serialized) struct ReconstructCLITests {
    @Test func reconstructPrintsMetricsAndWritesAFilmstrip() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("reconstruct-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let j = try CLI.json(["reconstruct", "--clip", "run", "--optimizer", "lbfgs", "--iterations", "1",
                              "--window-seconds", "0.5", "--stride-seconds", "0.5", "--json", "--output", dir.path])
        let metrics = try #require(j["metrics"] as? [String: Any])
        for key in ["mpjpeG", "mpjpe", "mpjpePA", "mpjpe2d", "totalVariation", "footSkatePercent"] {
            #expect((metrics[key] as? Double)?.isFinite == true, "metric \(key)")
        }
        #expect((j["windows"] as? [Any])?.count == 2 && (j["evaluations"] as? Int ?? 0) >= 2)
        let svg = try Data(contentsOf: dir.appendingPathComponent("filmstrip.svg"))
        #expect(XMLParser(data: svg).parse(), "filmstrip.svg is not well-formed XML")
        #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("result.json").path))
    }

    @Test func badClipsAndWindowsAreRejected() throws {
        let unknown = try CLI.run(["reconstruct", "--clip", "moonwalk"])
        #expect(unknown.status == 64 && unknown.stderr.contains("clip: 'moonwalk'") && unknown.stderr.contains("dance_a"))
        let long = try CLI.run(["reconstruct", "--clip", "run", "--window-seconds", "2", "--iterations", "0"])
        #expect(long.status == 64 && long.stderr.contains("windowSeconds"), "\(long.stderr)")
        // Budgets, keyframes, basin hopping and the friction ablation name their field.
        for (arguments, field) in [(["--evaluations", "0"], "evaluations"), (["--friction-smoothing", "-1"], "friction-smoothing"),
                                   (["--keyframe-interval", "0.001", "--iterations", "0"], "keyframeInterval"),
                                   (["--basin-hopping", "--hop-iterations", "0"], "hop-iterations"),
                                   (["--basin-hopping", "--hop-size", "nan"], "hop-size"),
                                   (["--basin-hopping", "--hop-temperature", "-1"], "hop-temperature"),
                                   (["--restart-on-increase", "-0.5"], "restart-on-increase")] {
            let bad = try CLI.run(["reconstruct", "--clip", "run"] + arguments)
            #expect(bad.status == 64 && bad.stderr.contains(field), "\(arguments): \(bad.stderr)")
        }
        // A malformed clip file in a data folder.
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("clips-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("clips"), withIntermediateDirectories: true)
        let urdf = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("data/humanoid-motions/humanoid.urdf")
        try FileManager.default.copyItem(at: urdf, to: dir.appendingPathComponent("humanoid.urdf"))
        try "{\"Frames\": [[1, 2]]}".write(to: dir.appendingPathComponent("clips/humanoid3d_broken.txt"), atomically: true,
                                         encoding: .utf8)
        let broken = try CLI.run(["reconstruct", "--clip", "broken", "--data", dir.path])
        #expect(broken.status == 65 && broken.stderr.contains("broken"), "\(broken.stderr)")
    }
}
