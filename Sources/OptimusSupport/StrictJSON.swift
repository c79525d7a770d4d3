/// Decoding JSON files strictly: a field missing from the file takes its default, and a field the type does not have
/// is an error naming its path and the valid fields (a typo must not silently fall back to a default). Evaluation
/// suites decode through ``AnyCodingKey`` containers; training configurations and the server's options check their
/// parsed objects with ``UnknownField/first(in:valid:prefix:)``. Each caller throws its own error type with
/// ``UnknownField/field`` and ``UnknownField/message``.

/// A field that is not one of the valid ones.
public struct UnknownField: Equatable, Sendable {
    /// The field's dotted path, e.g. `generalization.dimension`.
    public var field: String
    /// The valid fields, in the order the caller gave them.
    public var valid: [String]

    /// "unknown field; valid: a, b, c".
    public var message: String { "unknown field; valid: \(valid.joined(separator: ", "))" }

    /// The first of `keys` (in their order) that is not in `valid`, its path `prefix` + key; nil when all are valid.
    public static func first(in keys: some Sequence<String>, valid: [String], prefix: String = "") -> UnknownField? {
        keys.first { !valid.contains($0) }.map { UnknownField(field: prefix + $0, valid: valid) }
    }
}

/// A coding key for any field name, to read a JSON object's fields by name.
public struct AnyCodingKey: CodingKey {
    public var stringValue: String
    public var intValue: Int? { nil }
    public init(stringValue: String) { self.stringValue = stringValue }
    public init?(intValue: Int) { nil }
}

extension KeyedDecodingContainer where Key == AnyCodingKey {
    /// The field `key`, or `value` when the object does not have it.
    public func value<T: Decodable>(_ key: String, default value: T) throws -> T {
        try decodeIfPresent(T.self, forKey: AnyCodingKey(stringValue: key)) ?? value
    }

    /// The first field of this object that is not in `valid`, named by its path below the decoder's root.
    public func unknownField(valid: [String]) -> UnknownField? {
        UnknownField.first(in: allKeys.map(\.stringValue), valid: valid,
                           prefix: codingPath.map { $0.stringValue + "." }.joined())
    }
}
