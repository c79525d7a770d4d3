import Foundation
import NeuralNetworks
import OptimusNumerics

/// Why a checkpoint could not be read or used. The description names the file's problem and what was expected.
public enum CheckpointError: Error, Equatable, CustomStringConvertible, Sendable {
    case unreadable(path: String)
    case truncated(String)
    case malformedHeader(String)
    case unsupported(String)
    case mismatch(String)
    /// The weights' bytes do not have the SHA-256 the file's metadata records: the file changed after it was written.
    case corrupted(String)

    public var description: String {
        switch self {
        case .unreadable(let p): "checkpoint: cannot read '\(p)'"
        case .truncated(let m): "checkpoint: truncated or corrupted file: \(m)"
        case .malformedHeader(let m): "checkpoint: malformed safetensors header: \(m)"
        case .unsupported(let m): "checkpoint: unsupported content: \(m)"
        case .mismatch(let m): "checkpoint: does not match its model: \(m)"
        case .corrupted(let m): "checkpoint: corrupted file content: \(m)"
        }
    }
}

/// Meta-parameters of a learned optimizer in the safetensors format (https://github.com/huggingface/safetensors):
/// an 8-byte little-endian header length, a JSON header, then the tensors' bytes.
///
/// Every tensor of the model's ``NeuralNetworks/ParameterLayout`` is stored under its name as little-endian `F32` with
/// its shape, in layout order. `__metadata__` (string values only, as the format requires) holds `format`
/// (`swift-optimus-checkpoint-1`), `kind` (`optimus`, `adafactor-mlp`), `configuration` (the model's configuration as
/// JSON), `provenance` (JSON: how θ was produced, e.g. seed, command, outer steps) and `weightsSHA256` (see below).
/// Python reads it with `safetensors.numpy.load_file`.
///
/// **Content hash.** `weightsSHA256` is the SHA-256 (64 lowercase hexadecimal digits) of the weights: each tensor's
/// stored bytes (little-endian `F32`), tensors in the byte order of their UTF-8 names. Checkpoints are files people
/// download and share; without it a flipped weight byte loads and runs silently, because any 4 bytes are a valid
/// `F32`. Tensors are hashed by name rather than in file order so that a file re-saved by another safetensors writer
/// (Python's sorts tensors by name) with the same metadata still verifies; in Python the hash is
/// `sha256(b"".join(t[n].astype("<f4").tobytes() for n in sorted(t)))`. ``parse(_:)`` verifies it and throws
/// ``CheckpointError/corrupted(_:)`` on a mismatch. Files written before the hash existed have no such key: they load,
/// with ``weightsVerified`` false so that a front end can say so (`optimus checkpoint rehash FILE` adds the hash).
/// The header is not covered: its content is validated field by field instead (shapes, offsets, the configuration's
/// documented ranges), and a hash over it could not survive a writer that reorders the JSON.
public struct Checkpoint: Sendable, Equatable {
    public static let format = "swift-optimus-checkpoint-1"
    /// The `__metadata__` key of the weights' SHA-256.
    public static let weightsHashKey = "weightsSHA256"
    /// The model kind.
    public var kind: String
    /// The model configuration as a JSON string.
    public var configuration: String
    /// Free-form provenance (seed, command, steps, date).
    public var provenance: [String: String]
    /// The layout of θ.
    public var layout: ParameterLayout
    /// θ.
    public var parameters: [Float]
    /// True when this checkpoint was read from bytes whose recorded ``weightsHashKey`` matched the tensor data; false
    /// for a file without the key (written before hashes existed) and for a checkpoint built in memory. Not part of
    /// equality: it says how the content was obtained, not what it is.
    public private(set) var weightsVerified = false

    /// Equality of content: kind, configuration, provenance, layout and θ (bit patterns compared as `Float`).
    public static func == (a: Checkpoint, b: Checkpoint) -> Bool {
        a.kind == b.kind && a.configuration == b.configuration && a.provenance == b.provenance && a.layout == b.layout
            && a.parameters == b.parameters
    }

    public init(kind: String, configuration: String, provenance: [String: String], layout: ParameterLayout,
                parameters: [Float]) {
        precondition(parameters.count == layout.count, "checkpoint: θ does not fill its layout")
        self.kind = kind
        self.configuration = configuration
        self.provenance = provenance
        self.layout = layout
        self.parameters = parameters
    }

    /// A checkpoint of `model` with θ.
    public init<M: LearnedOptimizer>(model: M, parameters: [Float], provenance: [String: String] = [:]) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let json = (try? encoder.encode(model.configuration)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
        self.init(kind: M.kind, configuration: json, provenance: provenance, layout: model.layout,
                  parameters: parameters)
    }

    // MARK: Writing

    /// The little-endian `F32` bytes of one tensor.
    private func bytes(of t: TensorSpec) -> [UInt8] {
        var bytes = [UInt8]()
        bytes.reserveCapacity(4 * t.count)
        for i in t.range {
            let bits = parameters[i].bitPattern
            bytes.append(UInt8(truncatingIfNeeded: bits))
            bytes.append(UInt8(truncatingIfNeeded: bits >> 8))
            bytes.append(UInt8(truncatingIfNeeded: bits >> 16))
            bytes.append(UInt8(truncatingIfNeeded: bits >> 24))
        }
        return bytes
    }

    /// The SHA-256 of θ as the type's documentation defines it (tensors in the byte order of their names), as
    /// written in ``weightsHashKey``.
    public var weightsSHA256: String {
        SHA256.hex(bytes: layout.tensors.sorted { $0.name.utf8.lexicographicallyPrecedes($1.name.utf8) }
            .flatMap { bytes(of: $0) })
    }

    /// The file's bytes, with the weights' SHA-256 in the metadata.
    public func serialized() -> Data {
        var header = "{"
        var byteOffset = 0
        for t in layout.tensors {
            let size = 4 * t.count
            header += "\(jsonString(t.name)):{\"dtype\":\"F32\",\"shape\":[\(t.shape.map(String.init).joined(separator: ","))],"
                + "\"data_offsets\":[\(byteOffset),\(byteOffset + size)]},"
            byteOffset += size
        }
        let provenanceJSON = (try? JSONSerialization.data(withJSONObject: provenance, options: [.sortedKeys]))
            .map { String(decoding: $0, as: UTF8.self) } ?? "{}"
        header += "\"__metadata__\":{\"format\":\(jsonString(Self.format)),\"kind\":\(jsonString(kind)),"
            + "\"configuration\":\(jsonString(configuration)),\"provenance\":\(jsonString(provenanceJSON)),"
            + "\(jsonString(Self.weightsHashKey)):\(jsonString(weightsSHA256))}}"
        var headerBytes = Array(header.utf8)
        while headerBytes.count % 8 != 0 { headerBytes.append(0x20) }  // pad with spaces to 8-byte alignment
        var data = Data(capacity: 8 + headerBytes.count + 4 * parameters.count)
        withUnsafeBytes(of: UInt64(headerBytes.count).littleEndian) { data.append(contentsOf: $0) }
        data.append(contentsOf: headerBytes)
        for t in layout.tensors { data.append(contentsOf: bytes(of: t)) }
        return data
    }

    /// Writes the file atomically (temporary file in the same folder, then rename).
    public func write(to url: URL) throws {
        try serialized().write(to: url, options: .atomic)
    }

    // MARK: Reading

    /// Reads and validates a checkpoint file.
    public static func read(from url: URL) throws(CheckpointError) -> Checkpoint {
        guard let data = try? Data(contentsOf: url) else { throw .unreadable(path: url.path) }
        return try parse(data)
    }

    /// Parses and validates safetensors bytes: header length within the file, JSON header, F32 tensors whose byte
    /// ranges are in bounds, contiguous, non-overlapping and match their shapes, and the swift-optimus metadata.
    public static func parse(_ data: Data) throws(CheckpointError) -> Checkpoint {
        let bytes = [UInt8](data)
        guard bytes.count >= 8 else { throw .truncated("\(bytes.count) bytes, shorter than the 8-byte header length") }
        var n: UInt64 = 0
        for i in 0..<8 { n |= UInt64(bytes[i]) << (8 * UInt64(i)) }
        guard n <= UInt64(bytes.count - 8) else {
            throw .truncated("header length \(n) exceeds the \(bytes.count - 8) bytes after it")
        }
        let headerEnd = 8 + Int(n)
        guard let object = try? JSONSerialization.jsonObject(with: Data(bytes[8..<headerEnd])),
              let header = object as? [String: Any]
        else { throw .malformedHeader("the header is not a JSON object") }
        guard let meta = header["__metadata__"] as? [String: String] else {
            throw .malformedHeader("no __metadata__ object of strings")
        }
        guard meta["format"] == format else {
            throw .unsupported("__metadata__.format is \(meta["format"] ?? "missing"), expected \(format)")
        }
        guard let kind = meta["kind"], let configuration = meta["configuration"] else {
            throw .malformedHeader("__metadata__ needs kind and configuration")
        }
        let recordedHash = meta[weightsHashKey]
        if let recorded = recordedHash {
            guard recorded.utf8.count == 64,
                  recorded.utf8.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) })
            else { throw .malformedHeader("__metadata__.\(weightsHashKey) is not 64 lowercase hexadecimal digits") }
        }
        var provenance: [String: String] = [:]
        if let p = meta["provenance"], let obj = try? JSONSerialization.jsonObject(with: Data(p.utf8)) as? [String: String] {
            provenance = obj
        }
        let bufferSize = bytes.count - headerEnd
        var entries: [(name: String, shape: [Int], begin: Int, end: Int)] = []
        for (name, value) in header where name != "__metadata__" {
            guard let t = value as? [String: Any], let dtype = t["dtype"] as? String,
                  let shape = t["shape"] as? [Int], let offsets = t["data_offsets"] as? [Int], offsets.count == 2
            else { throw .malformedHeader("tensor \(name) needs dtype, shape and data_offsets") }
            guard dtype == "F32" else { throw .unsupported("tensor \(name) has dtype \(dtype); only F32 is supported") }
            guard shape.allSatisfy({ $0 > 0 }), offsets[0] >= 0, offsets[0] <= offsets[1] else {
                throw .malformedHeader("tensor \(name) has an empty or negative dimension \(shape) or inverted offsets")
            }
            guard offsets[1] <= bufferSize else {
                throw .truncated("tensor \(name) ends at byte \(offsets[1]) of a \(bufferSize)-byte buffer")
            }
            // The byte size of the shape, overflow-checked: a crafted shape must not wrap around to a small product.
            var byteCount = 4
            for extent in shape {
                let (product, overflow) = byteCount.multipliedReportingOverflow(by: extent)
                guard !overflow, product <= bufferSize else {
                    throw .malformedHeader("tensor \(name): shape \(shape) needs more bytes than the \(bufferSize)-byte buffer")
                }
                byteCount = product
            }
            guard name != "", !entries.contains(where: { $0.name == name }) else {
                throw .malformedHeader("tensor name '\(name)' is empty or repeated")
            }
            guard offsets[1] - offsets[0] == byteCount else {
                throw .malformedHeader("tensor \(name): \(offsets[1] - offsets[0]) bytes do not hold shape \(shape) of F32")
            }
            entries.append((name, shape, offsets[0], offsets[1]))
        }
        entries.sort { $0.begin < $1.begin }
        var expected = 0
        for e in entries {
            guard e.begin == expected else { throw .malformedHeader("tensor \(e.name) is not contiguous with the previous one") }
            expected = e.end
        }
        guard expected == bufferSize else { throw .truncated("\(bufferSize - expected) stray bytes after the last tensor") }
        // The content hash before θ is decoded: a corrupted weight byte is named as such, not as whatever it breaks
        // later (a NaN, a diverging run).
        if let recorded = recordedHash {
            var weights = [UInt8]()
            weights.reserveCapacity(bufferSize)
            for e in entries.sorted(by: { $0.name.utf8.lexicographicallyPrecedes($1.name.utf8) }) {
                weights.append(contentsOf: bytes[(headerEnd + e.begin)..<(headerEnd + e.end)])
            }
            let actual = SHA256.hex(bytes: weights)
            guard actual == recorded else {
                throw .corrupted("the SHA-256 of the \(bufferSize) weight bytes is \(actual.prefix(16))…, but the file "
                    + "records \(recorded.prefix(16))…: the weights changed after the file was written (a damaged "
                    + "copy or an edit); get the file again")
            }
        }
        var layout = ParameterLayout()
        var parameters: [Float] = []
        parameters.reserveCapacity(bufferSize / 4)
        for e in entries {
            layout.add(e.name, shape: e.shape)
            var i = headerEnd + e.begin
            while i < headerEnd + e.end {
                let bits = UInt32(bytes[i]) | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2]) << 16 | UInt32(bytes[i + 3]) << 24
                parameters.append(Float(bitPattern: bits))
                i += 4
            }
        }
        var checkpoint = Checkpoint(kind: kind, configuration: configuration, provenance: provenance, layout: layout,
                                    parameters: parameters)
        checkpoint.weightsVerified = recordedHash != nil
        return checkpoint
    }

    /// θ for `model`, after checking kind, configuration, tensor names and shapes; throws a ``CheckpointError``
    /// naming the first difference.
    public func parameters<M: LearnedOptimizer>(for model: M) throws(CheckpointError) -> [Float] {
        let config = try configuration(of: M.self)
        guard config == model.configuration else { throw .mismatch("configuration differs from the model's") }
        var reordered = [Float](repeating: 0, count: model.layout.count)
        for t in model.layout.tensors {
            guard let stored = layout[t.name] else { throw .mismatch("tensor \(t.name) is missing") }
            guard stored.shape == t.shape else {
                throw .mismatch("tensor \(t.name) has shape \(stored.shape), expected \(t.shape)")
            }
            reordered.replaceSubrange(t.range, with: parameters[stored.range])
        }
        guard layout.tensors.count == model.layout.tensors.count else {
            throw .mismatch("\(layout.tensors.count - model.layout.tensors.count) tensors that the model does not have")
        }
        for p in parameters where !p.isFinite { throw .mismatch("θ contains NaN or an infinity") }
        return reordered
    }

    /// The model stored in this checkpoint, decoded from its configuration.
    public func model<M: LearnedOptimizer>(_ type: M.Type) throws(CheckpointError) -> M {
        M(configuration: try configuration(of: M.self))
    }

    /// The stored configuration of a model of type `M`, decoded and validated (``LearnedOptimizer/validate(_:)``);
    /// throws if the checkpoint holds another kind.
    public func configuration<M: LearnedOptimizer>(of type: M.Type) throws(CheckpointError) -> M.Configuration {
        guard kind == M.kind else { throw .mismatch("kind is \(kind), expected \(M.kind)") }
        guard let config = try? JSONDecoder().decode(M.Configuration.self, from: Data(configuration.utf8)) else {
            throw .mismatch("configuration does not decode as \(M.kind)'s")
        }
        try M.validate(config)
        return config
    }
}

private func jsonString(_ s: String) -> String {
    let data = (try? JSONSerialization.data(withJSONObject: [s], options: [])) ?? Data("[\"\"]".utf8)
    let array = String(decoding: data, as: UTF8.self)
    return String(array.dropFirst().dropLast())
}
