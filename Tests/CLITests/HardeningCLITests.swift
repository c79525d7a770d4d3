import Foundation
import Testing

/// The command-line contract under bad input (issue 16): one exit-code rule everywhere, JSON numbers or `null` with
/// a reason, corrupted checkpoints named as such, stuck quasi-Newton runs that stop.
@Suite(.serialized) struct HardeningCLITests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// A scratch folder with a regular file `blocker` in it: any output below `blocker/` cannot be created.
    static func scratch() throws -> (folder: URL, blocked: String) {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("optimus-73-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let blocker = folder.appendingPathComponent("blocker")
        try Data("not a folder".utf8).write(to: blocker)
        return (folder, blocker.path)
    }

    /// Every command that writes an output exits 73 when the output cannot be created (a path below a regular file),
    /// naming the output and the reason, before doing any work (it used to be 65 from `evaluate`, 64 or 1 elsewhere,
    /// and `reconstruct` computed for minutes first).
    @Test func everyCommandWithAnOutputExits73WhenItCannotBeCreated() throws {
        let (folder, blocked) = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: folder) }
        let checkpoint = Self.repository.appendingPathComponent("checkpoints/adafactor-mlp-functions.safetensors").path
        let config = Self.repository.appendingPathComponent("configs/adafactor-mlp-functions.json").path
        let commands: [[String]] = [
            ["evaluate", "--suite", "quick", "--output", blocked + "/evaluation"],
            ["checkpoint", "init", "--optimizer", "optimus", "--output", blocked + "/theta.safetensors"],
            ["checkpoint", "rehash", checkpoint, "--output", blocked + "/theta.safetensors"],
            ["train", "--config", config, "--output", blocked + "/run"],
            ["reconstruct", "--clip", "walk", "--optimizer", "lbfgs", "--output", blocked + "/walk"],
            ["demo", "--problems", "sphere:2", "--starts", "1", "--iterations", "2", "--output", blocked + "/demo"],
            ["plot-training", folder.path, "--output", blocked + "/curve.svg"],
        ]
        for arguments in commands {
            let r = try CLI.run(arguments)
            #expect(r.status == 73, "\(arguments[0]) \(arguments[1]): status \(r.status), \(r.stderr)")
            #expect(r.stderr.contains("blocker") && r.stderr.contains("not a folder"), "\(arguments): \(r.stderr)")
        }
        // report writes into the evaluation folder: a file where its figures folder goes is an output that cannot be
        // created (73); a folder that does not exist is a missing input (66).
        let evaluation = folder.appendingPathComponent("evaluation").path
        let demo = try CLI.run(["demo", "--problems", "sphere:2", "--starts", "1", "--iterations", "2", "--output", evaluation])
        #expect(demo.status == 0, "\(demo.stderr)")
        try Data().write(to: URL(fileURLWithPath: evaluation).appendingPathComponent("figures"))
        let report = try CLI.run(["report", evaluation])
        #expect(report.status == 73 && report.stderr.contains("cannot write the report"), "\(report.status) \(report.stderr)")
        let missing = try CLI.run(["report", blocked + "/evaluation"])
        #expect(missing.status == 66, "\(missing.status) \(missing.stderr)")
    }

    /// Reproducer: an x₀ file of 1e308 overflows f. The result is JSON numbers or `null` with the reason (it was the
    /// string "NaN"), and a non-finite f is an outcome, not an error: exit 0 (README, Conventions).
    @Test func anOverflowingStartGivesNullValuesWithAReason() throws {
        let (folder, _) = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: folder) }
        let x0 = folder.appendingPathComponent("x0.txt")
        try Data("1e308 1e308 1e308 1e308 1e308".utf8).write(to: x0)
        let r = try CLI.run(["minimize", "--function", "sphere", "--dimension", "5", "--optimizer", "lbfgs", "--x0", x0.path,
                             "--json", "--trace"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(!r.stdout.contains("NaN") && !r.stdout.contains("Infinity"), "\(r.stdout)")
        let j = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        #expect(j["bestValue"] is NSNull && j["initialValue"] is NSNull)
        #expect(j["termination"] as? String == "nonFiniteObjective")
        let reason = try #require(j["nullReason"] as? String)
        #expect(reason.contains("bestValue") && reason.contains("no point with a finite f"), "\(reason)")
        // A finite result has no reason field.
        let fine = try CLI.json(["minimize", "--function", "sphere", "--dimension", "5", "--optimizer", "lbfgs", "--json"])
        #expect(fine["nullReason"] == nil && fine["bestValue"] is Double)
        // A start that is not finite is bad data (65), named by its item.
        try Data("[1, NaN, 2, 3, 4]".utf8).write(to: x0)
        let nan = try CLI.run(["minimize", "--function", "sphere", "--dimension", "5", "--optimizer", "lbfgs", "--x0", x0.path])
        #expect(nan.status == 65 && nan.stderr.contains("item 2 ('NaN')"), "\(nan.stderr)")
    }

    /// A checkpoint whose weights changed after it was written is refused (65) as corrupted content; an older file
    /// without the hash loads with a one-line notice; `checkpoint rehash` adds the hash and keeps θ bit-identical.
    @Test func checkpointWeightsAreVerified() throws {
        let (folder, _) = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("a.safetensors")
        let created = try CLI.run(["checkpoint", "init", "--optimizer", "adafactor-mlp", "--seed", "5", "--output", file.path])
        #expect(created.status == 0, "\(created.stderr)")
        let inspected = try CLI.json(["checkpoint", "inspect", file.path, "--json"])
        #expect(inspected["weightsVerified"] as? Bool == true && (inspected["weightsSHA256"] as? String)?.count == 64)

        var bytes = [UInt8](try Data(contentsOf: file))
        bytes[bytes.count - 3] ^= 0x10
        let corrupted = folder.appendingPathComponent("corrupted.safetensors")
        try Data(bytes).write(to: corrupted)
        for arguments in [["checkpoint", "inspect", corrupted.path],
                          ["minimize", "--function", "sphere", "--dimension", "3", "--optimizer", "adafactor-mlp",
                           "--checkpoint", corrupted.path, "--iterations", "3"]] {
            let r = try CLI.run(arguments)
            #expect(r.status == 65 && r.stderr.contains("corrupted file content"), "\(arguments[0]): \(r.stderr)")
        }

        // An older file: the same bytes without the hash in the metadata.
        let data = try Data(contentsOf: file)
        let n = (0..<8).reduce(0) { $0 | Int(data[$1]) << (8 * $1) }
        var header = try #require(try JSONSerialization.jsonObject(with: data[8..<(8 + n)]) as? [String: Any])
        var meta = try #require(header["__metadata__"] as? [String: String])
        meta["weightsSHA256"] = nil
        header["__metadata__"] = meta
        let json = [UInt8](try JSONSerialization.data(withJSONObject: header))
        let old = folder.appendingPathComponent("old.safetensors")
        try Data((0..<8).map { UInt8((json.count >> (8 * $0)) & 0xFF) } + json + data[(8 + n)...]).write(to: old)
        let loaded = try CLI.run(["minimize", "--function", "sphere", "--dimension", "3", "--optimizer", "adafactor-mlp",
                                  "--checkpoint", old.path, "--iterations", "3", "--json"])
        #expect(loaded.status == 0, "\(loaded.stderr)")
        let notices = loaded.stderr.split(separator: "\n").filter { $0.contains("records no weight hash") }
        #expect(notices.count == 1, "\(loaded.stderr)")
        let rehashed = try CLI.run(["checkpoint", "rehash", old.path])
        #expect(rehashed.status == 0 && rehashed.stdout.contains("bit-identical"), "\(rehashed.stderr)")
        let again = try CLI.run(["checkpoint", "inspect", old.path, "--json", "--values"])
        let original = try CLI.run(["checkpoint", "inspect", file.path, "--json", "--values"])
        #expect(again.status == 0 && !again.stderr.contains("records no weight hash"), "\(again.stderr)")
        // The same description, values and hash, byte for byte.
        let differs = Array(zip(again.stdout, original.stdout)).firstIndex { $0.0 != $0.1 } ?? 0
        #expect(again.stdout == original.stdout, """
            first difference at character \(differs): \(again.stdout.dropFirst(max(0, differs - 80)).prefix(200)) \
            vs \(original.stdout.dropFirst(max(0, differs - 80)).prefix(200))
            """)
    }

    /// Runs `optimus serve` with `arguments`, writes `input` (a list of pieces, so that 100 MB need not be one
    /// string) to its standard input, closes it, and returns the reply lines and the exit status.
    static func serve(_ arguments: [String] = [], input: [Data]) throws -> (lines: [String], status: Int32) {
        let p = Process()
        p.executableURL = CLI.binary
        p.arguments = ["serve"] + arguments
        let stdin = Pipe(), stdout = Pipe()
        p.standardInput = stdin
        p.standardOutput = stdout
        p.standardError = FileHandle.nullDevice
        try p.run()
        // The replies are a few short lines, far below a pipe's buffer: writing everything first cannot deadlock.
        for piece in input { try stdin.fileHandleForWriting.write(contentsOf: piece) }
        try stdin.fileHandleForWriting.close()
        let out = stdout.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (String(decoding: out, as: UTF8.self).split(separator: "\n").map(String.init), p.terminationStatus)
    }

    /// Reproducer: a 100 MB line (no newline in it) is discarded as it streams past and answered with one error, and
    /// the next line is served normally; the server used to buffer the whole line first (623 MB for 300 MB).
    @Test func serveAnswersAnOverlongLineOnceAndGoesOn() throws {
        let block = Data(repeating: UInt8(ascii: "x"), count: 1 << 20)
        let start = Data("\n{\"type\":\"start\",\"protocol\":1,\"optimizer\":\"lbfgs\",\"x0\":[1,2]}\n".utf8)
        let r = try Self.serve(input: [Data](repeating: block, count: 100) + [start])
        #expect(r.status == 0 && r.lines.count == 2, "\(r.lines.map { $0.prefix(200) })")
        #expect(r.lines.first?.contains("\"code\":\"line_too_long\"") == true
                && r.lines.first?.contains("104857600 bytes") == true, "\(r.lines.first ?? "")")
        #expect(r.lines.last == "{\"type\":\"evaluate\",\"id\":1,\"x\":[1.0,2.0]}")
        // Over-long and without any newline until the input ends: still exactly one answer.
        let unterminated = try Self.serve(input: [Data](repeating: block, count: 65))
        #expect(unterminated.lines.count == 1 && unterminated.lines[0].contains("line_too_long"))
    }

    /// Reproducer through the real server: BFGS at d = 100,000 gets an error reply (it aborted allocating 80 GB).
    @Test func serveRefusesAStartOverItsMemoryBudget() throws {
        let x0 = "[" + [String](repeating: "0.5", count: 100_000).joined(separator: ",") + "]"
        let lines = [
            "{\"type\":\"start\",\"protocol\":1,\"optimizer\":\"bfgs\",\"x0\":\(x0)}",
            "{\"type\":\"start\",\"protocol\":1,\"optimizer\":\"lbfgs\",\"x0\":[1,2]}",
        ]
        let r = try Self.serve(["--memory-budget", "4G"], input: [Data((lines.joined(separator: "\n") + "\n").utf8)])
        #expect(r.status == 0 && r.lines.count == 2)
        #expect(r.lines[0].contains("\"code\":\"over_memory_budget\"") && r.lines[0].contains("4.0 GiB")
                && r.lines[0].contains("L-BFGS"), "\(r.lines[0])")
        #expect(r.lines[1].hasPrefix("{\"type\":\"evaluate\""))
        // The CLI applies the same budget.
        let cli = try CLI.run(["minimize", "--function", "sphere", "--dimension", "20000", "--optimizer", "bfgs",
                               "--memory-budget", "1G"])
        #expect(cli.status == 64 && cli.stderr.contains("would need about 3.0 GiB") && cli.stderr.contains("L-BFGS"),
                "\(cli.stderr)")
    }

    /// Reproducer: L-BFGS on Rastrigin d = 10 with the gradient test off used to spend its whole budget at one f (5.9
    /// million evaluations); now it ends as `stalled` after a few hundred.
    @Test func aStuckLBFGSRunStops() throws {
        let j = try CLI.json(["minimize", "--function", "rastrigin", "--dimension", "10", "--optimizer", "lbfgs",
                              "--gradient-tolerance", "0", "--iterations", "1000000000", "--json"])
        #expect(j["termination"] as? String == "stalled")
        #expect((j["functionEvaluations"] as? Int ?? .max) < 2_000)
    }
}
