import Foundation

/// A compact, exact binary encoding for `Codable` values: every value is written in encoding order with no keys
/// (Doubles and Floats as their IEEE bit patterns, integers as 8 bytes, strings and arrays length-prefixed), and read
/// back in the same order. Used for training-state checkpoints, which must restore every bit (JSON on Linux does not
/// round numbers exactly). Not a general archive format: the reader must decode the same type that was written.
public enum BinaryCoder {
    public static func encode<T: Encodable>(_ value: T) throws -> Data {
        try encode(value, after: Data())
    }

    /// `prefix` followed by the encoding of `value`, built in one buffer of at least `capacity` bytes (a training
    /// state of the paper preset is ~100 MB: no concatenation, and no regrowth when the size is known).
    public static func encode<T: Encodable>(_ value: T, after prefix: Data, capacity: Int = 0) throws -> Data {
        let e = BinaryEncoderImpl()
        e.storage.data.reserveCapacity(max(capacity, prefix.count))
        e.storage.data.append(prefix)
        try value.encode(to: e)
        return e.storage.data
    }

    public static func decode<T: Decodable>(_ type: T.Type, from data: Data) throws -> T {
        let d = BinaryDecoderImpl(reader: Reader(bytes: [UInt8](data)))
        let value = try T(from: d)
        guard d.reader.index == d.reader.bytes.count else {
            throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "trailing bytes"))
        }
        return value
    }
}

final class Storage { var data = Data() }

final class Reader {
    let bytes: [UInt8]
    var index = 0
    init(bytes: [UInt8]) { self.bytes = bytes }
    func read(_ n: Int) throws -> ArraySlice<UInt8> {
        guard n >= 0, index + n <= bytes.count else {
            throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "truncated data"))
        }
        defer { index += n }
        return bytes[index..<(index + n)]
    }
    func u64() throws -> UInt64 {
        var v: UInt64 = 0
        for (i, b) in try read(8).enumerated() { v |= UInt64(b) << (8 * UInt64(i)) }
        return v
    }
}

private func append(_ s: Storage, _ v: UInt64) {
    withUnsafeBytes(of: v.littleEndian) { s.data.append(contentsOf: $0) }
}

struct BinaryEncoderImpl: Encoder {
    var storage = Storage()
    var codingPath: [CodingKey] = []
    var userInfo: [CodingUserInfoKey: Any] = [:]
    func container<Key: CodingKey>(keyedBy: Key.Type) -> KeyedEncodingContainer<Key> {
        KeyedEncodingContainer(KeyedEnc<Key>(s: storage))
    }
    func unkeyedContainer() -> UnkeyedEncodingContainer { UnkeyedEnc(s: storage) }
    func singleValueContainer() -> SingleValueEncodingContainer { UnkeyedEnc(s: storage) }
}

/// Values are written in order; an unkeyed container is prefixed by its count, written when it closes — so counts
/// are written up front by encoding collections through `encode(contentsOf:)` semantics: we write a placeholder.
final class UnkeyedEnc: UnkeyedEncodingContainer, SingleValueEncodingContainer {
    let s: Storage
    var codingPath: [CodingKey] = []
    var count = 0
    let countOffset: Int
    init(s: Storage) {
        self.s = s
        countOffset = s.data.count
        append(s, 0)  // placeholder for the element count
    }
    private func bump() {
        count += 1
        let c = UInt64(count).littleEndian
        withUnsafeBytes(of: c) { bytes in
            for i in 0..<8 { s.data[countOffset + i] = bytes[i] }
        }
    }
    func encodeNil() throws { append(s, 0); bump() }
    func encode(_ v: Bool) throws { append(s, v ? 1 : 0); bump() }
    func encode(_ v: String) throws {
        let u = Array(v.utf8)
        append(s, UInt64(u.count))
        s.data.append(contentsOf: u)
        bump()
    }
    func encode(_ v: Double) throws { append(s, v.bitPattern); bump() }
    func encode(_ v: Float) throws { append(s, UInt64(v.bitPattern)); bump() }
    func encode(_ v: Int) throws { append(s, UInt64(bitPattern: Int64(v))); bump() }
    func encode(_ v: Int8) throws { try encode(Int(v)) }
    func encode(_ v: Int16) throws { try encode(Int(v)) }
    func encode(_ v: Int32) throws { try encode(Int(v)) }
    func encode(_ v: Int64) throws { try encode(Int(v)) }
    func encode(_ v: UInt) throws { append(s, UInt64(v)); bump() }
    func encode(_ v: UInt8) throws { try encode(UInt(v)) }
    func encode(_ v: UInt16) throws { try encode(UInt(v)) }
    func encode(_ v: UInt32) throws { try encode(UInt(v)) }
    func encode(_ v: UInt64) throws { append(s, v); bump() }
    func encode<T: Encodable>(_ v: T) throws {
        // Fast paths for the big arrays of a training state (θ, Adam moments, accumulators): raw little-endian bits.
        if let a = v as? [Double] {
            append(s, UInt64(a.count))
            a.withUnsafeBytes { s.data.append(contentsOf: $0) }
        } else if let a = v as? [Float] {
            append(s, UInt64(a.count))
            a.withUnsafeBytes { s.data.append(contentsOf: $0) }
        } else {
            try v.encode(to: BinaryEncoderImpl(storage: s))
        }
        bump()
    }
    func nestedContainer<K: CodingKey>(keyedBy: K.Type) -> KeyedEncodingContainer<K> {
        bump()
        return KeyedEncodingContainer(KeyedEnc<K>(s: s))
    }
    func nestedUnkeyedContainer() -> UnkeyedEncodingContainer { bump(); return UnkeyedEnc(s: s) }
    func superEncoder() -> Encoder { bump(); return BinaryEncoderImpl(storage: s) }
}

struct KeyedEnc<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let s: Storage
    var codingPath: [CodingKey] = []
    private func single() -> UnkeyedEnc { UnkeyedEnc(s: s) }
    // Keyed values are written in order; optionals carry a presence flag.
    func encodeNil(forKey key: Key) throws { append(s, 0) }
    func encodeIfPresent<T: Encodable>(_ v: T?, forKey key: Key) throws {
        if let v { append(s, 1); try encode(v, forKey: key) } else { append(s, 0) }
    }
    // The protocol's own overloads for optional primitives would otherwise take its default implementations, which
    // write nothing for nil (and no flag for a value): every optional carries its flag here.
    func encodeIfPresent(_ v: Bool?, forKey key: Key) throws { try encodeIfPresent(v.map { $0 }, as: key) }
    func encodeIfPresent(_ v: String?, forKey key: Key) throws { try encodeIfPresent(v.map { $0 }, as: key) }
    func encodeIfPresent(_ v: Double?, forKey key: Key) throws { try encodeIfPresent(v.map { $0 }, as: key) }
    func encodeIfPresent(_ v: Float?, forKey key: Key) throws { try encodeIfPresent(v.map { $0 }, as: key) }
    func encodeIfPresent(_ v: Int?, forKey key: Key) throws { try encodeIfPresent(v.map { $0 }, as: key) }
    func encodeIfPresent(_ v: Int8?, forKey key: Key) throws { try encodeIfPresent(v.map { $0 }, as: key) }
    func encodeIfPresent(_ v: Int16?, forKey key: Key) throws { try encodeIfPresent(v.map { $0 }, as: key) }
    func encodeIfPresent(_ v: Int32?, forKey key: Key) throws { try encodeIfPresent(v.map { $0 }, as: key) }
    func encodeIfPresent(_ v: Int64?, forKey key: Key) throws { try encodeIfPresent(v.map { $0 }, as: key) }
    func encodeIfPresent(_ v: UInt?, forKey key: Key) throws { try encodeIfPresent(v.map { $0 }, as: key) }
    func encodeIfPresent(_ v: UInt8?, forKey key: Key) throws { try encodeIfPresent(v.map { $0 }, as: key) }
    func encodeIfPresent(_ v: UInt16?, forKey key: Key) throws { try encodeIfPresent(v.map { $0 }, as: key) }
    func encodeIfPresent(_ v: UInt32?, forKey key: Key) throws { try encodeIfPresent(v.map { $0 }, as: key) }
    func encodeIfPresent(_ v: UInt64?, forKey key: Key) throws { try encodeIfPresent(v.map { $0 }, as: key) }
    private func encodeIfPresent<T: Encodable>(_ v: T?, as key: Key) throws {
        if let v { append(s, 1); try encode(v, forKey: key) } else { append(s, 0) }
    }
    func encode<T: Encodable>(_ v: T, forKey key: Key) throws { try single().encode(v) }
    func encode(_ v: Bool, forKey key: Key) throws { try single().encode(v) }
    func encode(_ v: String, forKey key: Key) throws { try single().encode(v) }
    func encode(_ v: Double, forKey key: Key) throws { try single().encode(v) }
    func encode(_ v: Float, forKey key: Key) throws { try single().encode(v) }
    func encode(_ v: Int, forKey key: Key) throws { try single().encode(v) }
    func encode(_ v: UInt64, forKey key: Key) throws { try single().encode(v) }
    func nestedContainer<K: CodingKey>(keyedBy: K.Type, forKey key: Key) -> KeyedEncodingContainer<K> {
        KeyedEncodingContainer(KeyedEnc<K>(s: s))
    }
    func nestedUnkeyedContainer(forKey key: Key) -> UnkeyedEncodingContainer { UnkeyedEnc(s: s) }
    func superEncoder() -> Encoder { BinaryEncoderImpl(storage: s) }
    func superEncoder(forKey key: Key) -> Encoder { BinaryEncoderImpl(storage: s) }
}

struct BinaryDecoderImpl: Decoder {
    let reader: Reader
    var codingPath: [CodingKey] = []
    var userInfo: [CodingUserInfoKey: Any] = [:]
    func container<Key: CodingKey>(keyedBy: Key.Type) throws -> KeyedDecodingContainer<Key> {
        KeyedDecodingContainer(KeyedDec<Key>(r: reader))
    }
    func unkeyedContainer() throws -> UnkeyedDecodingContainer { try UnkeyedDec(r: reader) }
    func singleValueContainer() throws -> SingleValueDecodingContainer { try UnkeyedDec(r: reader) }
}

final class UnkeyedDec: UnkeyedDecodingContainer, SingleValueDecodingContainer {
    let r: Reader
    var codingPath: [CodingKey] = []
    let total: Int
    var currentIndex = 0
    init(r: Reader) throws {
        self.r = r
        let n = try r.u64()
        guard n <= UInt64(r.bytes.count) else {
            throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "implausible count \(n)"))
        }
        total = Int(n)
    }
    var count: Int? { total }
    var isAtEnd: Bool { currentIndex >= total }
    private func next() throws -> UInt64 { currentIndex += 1; return try r.u64() }
    func decodeNil() -> Bool { false }
    func decode(_ t: Bool.Type) throws -> Bool { try next() != 0 }
    func decode(_ t: String.Type) throws -> String {
        let n = try next()
        guard n <= UInt64(r.bytes.count) else { throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "bad string")) }
        return String(decoding: try r.read(Int(n)), as: UTF8.self)
    }
    func decode(_ t: Double.Type) throws -> Double { Double(bitPattern: try next()) }
    func decode(_ t: Float.Type) throws -> Float { Float(bitPattern: UInt32(truncatingIfNeeded: try next())) }
    func decode(_ t: Int.Type) throws -> Int { Int(Int64(bitPattern: try next())) }
    func decode(_ t: Int8.Type) throws -> Int8 { Int8(truncatingIfNeeded: try decode(Int.self)) }
    func decode(_ t: Int16.Type) throws -> Int16 { Int16(truncatingIfNeeded: try decode(Int.self)) }
    func decode(_ t: Int32.Type) throws -> Int32 { Int32(truncatingIfNeeded: try decode(Int.self)) }
    func decode(_ t: Int64.Type) throws -> Int64 { Int64(try decode(Int.self)) }
    func decode(_ t: UInt.Type) throws -> UInt { UInt(try next()) }
    func decode(_ t: UInt8.Type) throws -> UInt8 { UInt8(truncatingIfNeeded: try next()) }
    func decode(_ t: UInt16.Type) throws -> UInt16 { UInt16(truncatingIfNeeded: try next()) }
    func decode(_ t: UInt32.Type) throws -> UInt32 { UInt32(truncatingIfNeeded: try next()) }
    func decode(_ t: UInt64.Type) throws -> UInt64 { try next() }
    func decode<T: Decodable>(_ t: T.Type) throws -> T {
        currentIndex += 1
        if T.self == [Double].self || T.self == [Float].self {
            let width = T.self == [Double].self ? 8 : 4
            let n = try r.u64()
            guard n <= UInt64(r.bytes.count / width) else {
                throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "implausible array length"))
            }
            let bytes = try r.read(width * Int(n))
            return bytes.withUnsafeBytes { raw -> T in
                if width == 8 {
                    return (0..<Int(n)).map { Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 8 * $0, as: UInt64.self))) } as! T
                }
                return (0..<Int(n)).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self))) } as! T
            }
        }
        return try T(from: BinaryDecoderImpl(reader: r))
    }
    func nestedContainer<K: CodingKey>(keyedBy: K.Type) throws -> KeyedDecodingContainer<K> {
        currentIndex += 1
        return KeyedDecodingContainer(KeyedDec<K>(r: r))
    }
    func nestedUnkeyedContainer() throws -> UnkeyedDecodingContainer { currentIndex += 1; return try UnkeyedDec(r: r) }
    func superDecoder() throws -> Decoder { currentIndex += 1; return BinaryDecoderImpl(reader: r) }
}

struct KeyedDec<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let r: Reader
    var codingPath: [CodingKey] = []
    var allKeys: [Key] { [] }
    func contains(_ key: Key) -> Bool { true }
    private func single() throws -> UnkeyedDec { try UnkeyedDec(r: r) }
    func decodeNil(forKey key: Key) throws -> Bool { false }
    func decodeIfPresent<T: Decodable>(_ t: T.Type, forKey key: Key) throws -> T? {
        try r.u64() == 1 ? try decode(t, forKey: key) : nil
    }
    func decodeIfPresent(_ t: Bool.Type, forKey key: Key) throws -> Bool? { try flagged(t, key) }
    func decodeIfPresent(_ t: String.Type, forKey key: Key) throws -> String? { try flagged(t, key) }
    func decodeIfPresent(_ t: Double.Type, forKey key: Key) throws -> Double? { try flagged(t, key) }
    func decodeIfPresent(_ t: Float.Type, forKey key: Key) throws -> Float? { try flagged(t, key) }
    func decodeIfPresent(_ t: Int.Type, forKey key: Key) throws -> Int? { try flagged(t, key) }
    func decodeIfPresent(_ t: Int8.Type, forKey key: Key) throws -> Int8? { try flagged(t, key) }
    func decodeIfPresent(_ t: Int16.Type, forKey key: Key) throws -> Int16? { try flagged(t, key) }
    func decodeIfPresent(_ t: Int32.Type, forKey key: Key) throws -> Int32? { try flagged(t, key) }
    func decodeIfPresent(_ t: Int64.Type, forKey key: Key) throws -> Int64? { try flagged(t, key) }
    func decodeIfPresent(_ t: UInt.Type, forKey key: Key) throws -> UInt? { try flagged(t, key) }
    func decodeIfPresent(_ t: UInt8.Type, forKey key: Key) throws -> UInt8? { try flagged(t, key) }
    func decodeIfPresent(_ t: UInt16.Type, forKey key: Key) throws -> UInt16? { try flagged(t, key) }
    func decodeIfPresent(_ t: UInt32.Type, forKey key: Key) throws -> UInt32? { try flagged(t, key) }
    func decodeIfPresent(_ t: UInt64.Type, forKey key: Key) throws -> UInt64? { try flagged(t, key) }
    private func flagged<T: Decodable>(_ t: T.Type, _ key: Key) throws -> T? {
        try r.u64() == 1 ? try decode(t, forKey: key) : nil
    }
    func decode<T: Decodable>(_ t: T.Type, forKey key: Key) throws -> T { try single().decode(t) }
    func decode(_ t: Bool.Type, forKey key: Key) throws -> Bool { try single().decode(t) }
    func decode(_ t: String.Type, forKey key: Key) throws -> String { try single().decode(t) }
    func decode(_ t: Double.Type, forKey key: Key) throws -> Double { try single().decode(t) }
    func decode(_ t: Float.Type, forKey key: Key) throws -> Float { try single().decode(t) }
    func decode(_ t: Int.Type, forKey key: Key) throws -> Int { try single().decode(t) }
    func decode(_ t: UInt64.Type, forKey key: Key) throws -> UInt64 { try single().decode(t) }
    func nestedContainer<K: CodingKey>(keyedBy: K.Type, forKey key: Key) throws -> KeyedDecodingContainer<K> {
        KeyedDecodingContainer(KeyedDec<K>(r: r))
    }
    func nestedUnkeyedContainer(forKey key: Key) throws -> UnkeyedDecodingContainer { try UnkeyedDec(r: r) }
    func superDecoder() throws -> Decoder { BinaryDecoderImpl(reader: r) }
    func superDecoder(forKey key: Key) throws -> Decoder { BinaryDecoderImpl(reader: r) }
}
