import Foundation
import LearnedOptimizers
import Objectives
import Optimizers
import OptimusNumerics
import Testing

/// Checkpoints are untrusted input: every defect found by mutating the shipped files is a clear error here, never a
/// crash (reproducers of the crashes and hangs a fuzz of 2,000 mutated checkpoints found).
@Suite struct CheckpointHardeningTests {
    /// safetensors bytes with the given header (the metadata of a valid small Optimus) and data.
    static func file(tensors: [String: Any], data: [UInt8]) throws -> Data {
        let base = try #require(LearnedOptimizerCatalog.untrained(name: "optimus", preset: "small", seed: 1))
        var header = tensors
        header["__metadata__"] = ["format": Checkpoint.format, "kind": base.kind, "configuration": base.configuration]
        let json = try JSONSerialization.data(withJSONObject: header)
        var bytes = [UInt8](repeating: 0, count: 8)
        for i in 0..<8 { bytes[i] = UInt8((UInt64(json.count) >> (8 * UInt64(i))) & 0xFF) }
        return Data(bytes + [UInt8](json) + data)
    }

    @Test func aShapeWhoseByteSizeOverflowsIsAnError() throws {
        // 4 · 2⁶² · 4 wraps to 0 in Int arithmetic: with offsets [0, 0] the unchecked product matched.
        let data = try Self.file(tensors: ["w": ["dtype": "F32", "shape": [1 << 62, 4], "data_offsets": [0, 0]]],
                                 data: [])
        #expect(throws: CheckpointError.self) { try Checkpoint.parse(data) }
        do { _ = try Checkpoint.parse(data) } catch { #expect(error.description.contains("needs more bytes")) }
    }

    @Test func aZeroSizeTensorIsAnError() throws {
        let data = try Self.file(tensors: ["w": ["dtype": "F32", "shape": [0, 3], "data_offsets": [0, 0]]], data: [])
        do {
            _ = try Checkpoint.parse(data)
            Issue.record("a zero-size tensor was accepted")
        } catch {
            #expect(error.description.contains("empty or negative dimension"), "\(error)")
        }
    }

    /// A configuration field outside its range is refused before any model is built, naming the field.
    @Test(arguments: [
        ("heads", "0"), ("heads", "3"), ("modelWidth", "-4"), ("modelWidth", "1000000"), ("mlpHiddenSize", "0"),
        ("encoderLayers", "100000"), ("powerIterations", "-1"), ("powerIterations", "1000000000"),
        ("feedForwardWidth", "0"), ("lambdaA", "-1"), ("lambdaB", "1e300"),
    ])
    func anOptimusConfigurationOutOfRangeIsRefused(field: String, value: String) throws {
        var c = try #require(LearnedOptimizerCatalog.untrained(name: "optimus", preset: "small", seed: 1))
        var object = try #require(try JSONSerialization.jsonObject(with: Data(c.configuration.utf8)) as? [String: Any])
        object[field] = try JSONSerialization.jsonObject(with: Data(value.utf8), options: .fragmentsAllowed)
        c.configuration = String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self)
        do {
            _ = try LearnedOptimizerCatalog.optimizer(from: c)
            Issue.record("\(field) = \(value) was accepted")
        } catch {
            #expect(error.description.contains("configuration.\(field)"), "\(error)")
        }
    }

    @Test(arguments: [("hiddenSize", "0"), ("hiddenLayers", "-2"), ("hiddenSize", "100000000"), ("stepMult", "0")])
    func anAdafactorConfigurationOutOfRangeIsRefused(field: String, value: String) throws {
        var c = try #require(LearnedOptimizerCatalog.untrained(name: "adafactor-mlp", preset: "reference", seed: 1))
        var object = try #require(try JSONSerialization.jsonObject(with: Data(c.configuration.utf8)) as? [String: Any])
        object[field] = try JSONSerialization.jsonObject(with: Data(value.utf8), options: .fragmentsAllowed)
        c.configuration = String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self)
        #expect(throws: CheckpointError.self) { try LearnedOptimizerCatalog.optimizer(from: c) }
    }

    /// `--optimizer optimus` with an Adafactor-MLP file, or `optimus-no-state` with a full Optimus file, is an error
    /// naming both (it used to run the file's model silently).
    @Test func aCheckpointOfAnotherOptimizerIsRefused() throws {
        let adafactor = try #require(LearnedOptimizerCatalog.untrained(name: "adafactor-mlp", preset: "reference", seed: 1))
        let optimus = try #require(LearnedOptimizerCatalog.untrained(name: "optimus", preset: "small", seed: 1))
        let noState = try #require(LearnedOptimizerCatalog.untrained(name: "optimus-no-state", preset: "small", seed: 1))
        for (name, checkpoint, words) in [("optimus", adafactor, ["optimus", "adafactor-mlp"]),
                                          ("optimus-no-state", optimus, ["noState", "full"]),
                                          ("optimus", noState, ["full", "noState"]),
                                          ("adafactor-mlp", optimus, ["adafactor-mlp", "optimus"])] {
            do {
                try LearnedOptimizerCatalog.checkMatches(name: name, checkpoint: checkpoint)
                Issue.record("\(name) accepted a \(checkpoint.kind) checkpoint")
            } catch {
                for w in words { #expect(error.description.contains(w), "\(error)") }
            }
        }
        try LearnedOptimizerCatalog.checkMatches(name: "optimus-no-state", checkpoint: noState)
        try LearnedOptimizerCatalog.checkMatches(name: "adafactor-mlp", checkpoint: adafactor)
    }

    /// The header length of safetensors bytes (the first 8 bytes, little-endian).
    static func headerLength(_ data: Data) -> Int {
        (0..<8).reduce(0) { $0 | Int(data[data.startIndex + $1]) << (8 * $1) }
    }

    /// One flipped bit in the weights is a `corrupted` error naming the content (it used to load and run silently:
    /// any 4 bytes are a valid F32).
    @Test func aChangedWeightByteIsDetectedByTheContentHash() throws {
        let c = try #require(LearnedOptimizerCatalog.untrained(name: "optimus", preset: "small", seed: 3))
        let data = c.serialized()
        let parsed = try Checkpoint.parse(data)
        #expect(parsed.weightsVerified && parsed == c)
        let start = 8 + Self.headerLength(data)
        for offset in [start, start + 4 * 777 + 2, data.count - 1] {
            var bytes = [UInt8](data)
            bytes[offset] ^= 0x01
            do {
                _ = try Checkpoint.parse(Data(bytes))
                Issue.record("a flipped weight bit at byte \(offset) was accepted")
            } catch {
                guard case .corrupted = error else { Issue.record("\(error)"); continue }
                #expect(error.description.contains("corrupted file content") && error.description.contains("SHA-256"))
            }
        }
    }

    /// A file written before the hash existed (no `weightsSHA256` key) still loads, marked as not verified.
    @Test func aFileWithoutTheHashLoadsUnverified() throws {
        let c = try #require(LearnedOptimizerCatalog.untrained(name: "adafactor-mlp", preset: "reference", seed: 3))
        let data = c.serialized()
        let n = Self.headerLength(data)
        var header = try #require(try JSONSerialization.jsonObject(with: data[8..<(8 + n)]) as? [String: Any])
        var meta = try #require(header["__metadata__"] as? [String: String])
        #expect(meta[Checkpoint.weightsHashKey] == c.weightsSHA256)
        meta[Checkpoint.weightsHashKey] = nil
        header["__metadata__"] = meta
        let json = [UInt8](try JSONSerialization.data(withJSONObject: header))
        let old = Data((0..<8).map { UInt8((json.count >> (8 * $0)) & 0xFF) } + json + data[(8 + n)...])
        let parsed = try Checkpoint.parse(old)
        #expect(!parsed.weightsVerified && parsed == c)
        _ = try LearnedOptimizerCatalog.optimizer(from: parsed)
        // A recorded hash that is not 64 hexadecimal digits is a malformed header, not a silent skip.
        meta[Checkpoint.weightsHashKey] = "abc"
        header["__metadata__"] = meta
        let badJSON = [UInt8](try JSONSerialization.data(withJSONObject: header))
        let bad = Data((0..<8).map { UInt8((badJSON.count >> (8 * $0)) & 0xFF) } + badJSON + data[(8 + n)...])
        #expect(throws: CheckpointError.malformedHeader("__metadata__.weightsSHA256 is not 64 lowercase hexadecimal digits")) {
            try Checkpoint.parse(bad)
        }
    }

    /// The hash is over tensors in name order, so a file whose tensors another writer stored in another order (Python's
    /// safetensors sorts by name) still verifies.
    @Test func theHashDoesNotDependOnTheOrderOfTensorsInTheFile() throws {
        let c = try #require(LearnedOptimizerCatalog.untrained(name: "adafactor-mlp", preset: "reference", seed: 4))
        var tensors: [String: Any] = [:]
        var weights: [UInt8] = []
        for t in c.layout.tensors.reversed() {
            let begin = weights.count
            for v in c.parameters[t.offset..<(t.offset + t.count)] {
                withUnsafeBytes(of: v.bitPattern.littleEndian) { weights.append(contentsOf: $0) }
            }
            tensors[t.name] = ["dtype": "F32", "shape": t.shape, "data_offsets": [begin, weights.count]]
        }
        tensors["__metadata__"] = ["format": Checkpoint.format, "kind": c.kind, "configuration": c.configuration,
                                   Checkpoint.weightsHashKey: c.weightsSHA256]
        let json = [UInt8](try JSONSerialization.data(withJSONObject: tensors))
        let reordered = try Checkpoint.parse(Data((0..<8).map { UInt8((json.count >> (8 * $0)) & 0xFF) } + json + weights))
        #expect(reordered.weightsVerified && reordered.weightsSHA256 == c.weightsSHA256)
        #expect(try reordered.parameters(for: reordered.model(AdafactorMLP.self)).map(\.bitPattern)
            == c.parameters.map(\.bitPattern))
    }

    /// The shipped checkpoints record their hash (they were rewritten once with `optimus checkpoint rehash`).
    @Test(arguments: ["optimus-functions.safetensors", "adafactor-mlp-functions.safetensors", "optimus-motion.safetensors",
                      "optimus-motion-walking.safetensors"])
    func theShippedCheckpointsAreVerified(file: String) throws {
        let url = try #require(LearnedOptimizerCatalog.shippedCheckpoint(file: file))
        let c = try Checkpoint.read(from: url)
        #expect(c.weightsVerified, "\(file) records no weight hash")
    }

    /// Seeded byte mutations of a valid checkpoint: each one is refused with an error or loads and runs a few steps;
    /// none crashes (a crash would end the test process), and every mutation confined to the weights is refused by
    /// the content hash.
    @Test func mutatedCheckpointsAreRefusedOrRunNeverCrash() throws {
        let base = try #require(LearnedOptimizerCatalog.untrained(name: "optimus", preset: "small", seed: 3))
            .serialized()
        var g = Xoshiro256StarStar(seed: 2026)
        let objective = try BenchmarkObjective(.sphere, dimension: 4)
        let weightsStart = 8 + Self.headerLength(base)
        var loaded = 0, refused = 0, weightOnly = 0
        for _ in 0..<400 {
            var bytes = [UInt8](base)
            let mutations = 1 + g.nextInt(below: 4)
            var touchesHeader = false
            for _ in 0..<mutations {
                let i = g.nextInt(below: bytes.count)
                if i < weightsStart { touchesHeader = true }
                switch g.nextInt(below: 3) {
                case 0: bytes[i] = UInt8(truncatingIfNeeded: g.next())
                case 1: bytes[i] = [UInt8(ascii: "0"), UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "]")][g.nextInt(below: 4)]
                default: bytes[i] ^= 1 << UInt8(g.nextInt(below: 8))
                }
            }
            let changed = bytes != [UInt8](base)
            if !touchesHeader && changed {
                weightOnly += 1
                do {
                    _ = try Checkpoint.parse(Data(bytes))
                    Issue.record("a mutation of the weights alone was not detected")
                } catch {
                    if case .corrupted = error {} else { Issue.record("weights mutated, but: \(error)") }
                }
            }
            do {
                let c = try Checkpoint.parse(Data(bytes))
                let optimizer = try LearnedOptimizerCatalog.optimizer(from: c)
                _ = try? minimize(objective, from: [1, -1, 0.5, 2], using: optimizer,
                                  options: MinimizationOptions(maxIterations: 3, gradientTolerance: 0))
                loaded += 1
            } catch {
                refused += 1
            }
        }
        #expect(loaded + refused == 400)
        #expect(refused > 0 && weightOnly > 300)
    }
}
