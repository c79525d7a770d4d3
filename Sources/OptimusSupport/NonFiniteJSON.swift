import Foundation

/// A `JSONEncoder` that writes NaN and ±∞ as `null`: every number in a result file or on standard output is a JSON
/// number or `null`, never a string such as `"NaN"` that a reader would take for text (Python's `json` keeps it a
/// `str`; arithmetic on it fails far from the cause). Where a `null` needs explaining, the value that carries it adds a
/// reason field (`optimus minimize --json`: `nullReason`).
///
/// Foundation's encoder has no strategy for `null`, so this one encodes non-finite numbers as a sentinel string made
/// of Unicode noncharacters (U+FDD0, never found in text that people or programs exchange) and replaces each
/// occurrence of that string token by `null` in the output. Leave ``nonConformingFloatEncodingStrategy`` as it is.
/// Read such files back with ``KeyedDecodingContainer/decodeNumber(forKey:null:)``.
public final class NonFiniteAsNullJSONEncoder: JSONEncoder, @unchecked Sendable {
    static let sentinel: String = {
        // Swift string literals refuse noncharacters, so the scalar is built at run time.
        let mark = String(Character(Unicode.Scalar(0xFDD0)!))
        return mark + "non-finite" + mark
    }()
    /// The sentinel as it appears in the output: a JSON string token (noncharacters are written unescaped).
    static let token: [UInt8] = Array("\"\(sentinel)\"".utf8)

    public override init() {
        super.init()
        nonConformingFloatEncodingStrategy = .convertToString(
            positiveInfinity: Self.sentinel, negativeInfinity: Self.sentinel, nan: Self.sentinel)
    }

    public override func encode<T: Encodable>(_ value: T) throws -> Data {
        Self.replacingSentinels(try super.encode(value))
    }

    /// `data` with every sentinel token replaced by `null`.
    static func replacingSentinels(_ data: Data) -> Data {
        let bytes = [UInt8](data)
        let token = Self.token
        let first = token[0], second = token[1]
        var out = [UInt8]()
        out.reserveCapacity(bytes.count)
        var i = 0
        var changed = false
        while i < bytes.count {
            if bytes[i] == first, i + token.count <= bytes.count, bytes[i + 1] == second,
               bytes[i..<(i + token.count)].elementsEqual(token) {
                out.append(contentsOf: [0x6E, 0x75, 0x6C, 0x6C])  // null
                i += token.count
                changed = true
            } else {
                out.append(bytes[i])
                i += 1
            }
        }
        return changed ? Data(out) : data
    }
}

extension KeyedDecodingContainer {
    /// A number that may have been written as `null` (non-finite, by ``NonFiniteAsNullJSONEncoder``): `null` reads as
    /// `null` (NaN unless the field documents another meaning, e.g. +∞ for a diverged run); the strings "NaN",
    /// "Infinity", "-Infinity" of files written before are read by the decoder's non-conforming-float strategy.
    public func decodeNumber(forKey key: Key, null: Double = .nan) throws -> Double {
        try decodeNil(forKey: key) ? null : decode(Double.self, forKey: key)
    }

    /// An array of numbers whose non-finite entries may be `null` (see ``decodeNumber(forKey:null:)``).
    public func decodeNumbers(forKey key: Key, null: Double = .nan) throws -> [Double] {
        try decode([Double?].self, forKey: key).map { $0 ?? null }
    }

    /// An optional number: absent reads as nil, `null` as `null` (NaN by default). For fields whose nil has a meaning
    /// of its own and that were always omitted (never `null`) when nil.
    public func decodeNumberIfPresent(forKey key: Key, null: Double = .nan) throws -> Double? {
        guard contains(key) else { return nil }
        return try decodeNumber(forKey: key, null: null)
    }
}

/// The project's JSON encoder for records and results (evaluation records, manifests, reconstruction results, the
/// CLI's `--json` output): sorted keys, slashes unescaped, and non-finite numbers (diverged runs are data) written as
/// `null` (``NonFiniteAsNullJSONEncoder``). The record types read `null` back as NaN, or +∞ where their documentation
/// says so.
public func makeRecordEncoder(pretty: Bool = false) -> JSONEncoder {
    let e = NonFiniteAsNullJSONEncoder()
    e.outputFormatting = pretty ? [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
    return e
}

/// Reads records: numbers, `null` for non-finite ones, and the strings "NaN", "Infinity", "-Infinity" with which
/// records were written before (the committed `results/paper/tuning.jsonl.gz` has them).
public func makeRecordDecoder() -> JSONDecoder {
    let d = JSONDecoder()
    d.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "Infinity", negativeInfinity: "-Infinity",
                                                              nan: "NaN")
    return d
}
