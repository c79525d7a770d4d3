/// A parsed JSON value (RFC 8259), from a strict parser written for the protocol.
///
/// Foundation's `JSONSerialization` on Linux does not round numbers correctly (the last bit can differ), which
/// would break the protocol's promise that numbers round-trip exactly; it also boxes every number. This parser
/// hands each number's text to `Double(_:)` (correctly rounded), rejects numbers beyond Double's range, limits
/// nesting to 64 levels, and reports duplicate keys.
public enum JSONValue: Equatable, Sendable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    /// Why a text is not acceptable JSON.
    public struct ParseError: Error, Equatable, CustomStringConvertible {
        public var message: String
        public var offset: Int
        public var description: String { "\(message) at byte \(offset)" }
    }

    /// Parses one JSON text (surrounding whitespace allowed, nothing else).
    public static func parse(_ text: String) throws(ParseError) -> JSONValue {
        var bytes = Array(text.utf8)
        bytes.append(0)  // sentinel
        var p = Parser(bytes: bytes)
        p.skipWhitespace()
        let value = try p.value(depth: 0)
        p.skipWhitespace()
        guard p.index == bytes.count - 1 else { throw p.error("unexpected text after the value") }
        return value
    }

    public var number: Double? { if case .number(let d) = self { d } else { nil } }
    public var string: String? { if case .string(let s) = self { s } else { nil } }
    public var bool: Bool? { if case .bool(let b) = self { b } else { nil } }
    public var array: [JSONValue]? { if case .array(let a) = self { a } else { nil } }
    public var object: [String: JSONValue]? { if case .object(let o) = self { o } else { nil } }
    public var isNull: Bool { self == .null }

    /// An integral number within ±9·10¹⁵, as an Int.
    public var integer: Int? {
        guard let d = number, d.rounded() == d, abs(d) < 9.0e15 else { return nil }
        return Int(d)
    }
}

private struct Parser {
    let bytes: [UInt8]
    var index = 0

    func error(_ message: String) -> JSONValue.ParseError { .init(message: message, offset: index) }

    mutating func skipWhitespace() {
        while true {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return
            }
        }
    }

    mutating func value(depth: Int) throws(JSONValue.ParseError) -> JSONValue {
        guard depth < 64 else { throw error("nesting deeper than 64 levels") }
        switch bytes[index] {
        case UInt8(ascii: "{"): return try object(depth: depth)
        case UInt8(ascii: "["): return try array(depth: depth)
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try number())
        default: throw error(index == bytes.count - 1 ? "unexpected end of input" : "unexpected character")
        }
    }

    mutating func literal(_ word: StaticString) throws(JSONValue.ParseError) {
        let w = word.withUTF8Buffer { Array($0) }
        guard index + w.count <= bytes.count - 1, Array(bytes[index..<(index + w.count)]) == w else {
            throw error("invalid literal")
        }
        index += w.count
    }

    mutating func object(depth: Int) throws(JSONValue.ParseError) -> JSONValue {
        index += 1
        var result: [String: JSONValue] = [:]
        skipWhitespace()
        if bytes[index] == UInt8(ascii: "}") { index += 1; return .object(result) }
        while true {
            skipWhitespace()
            guard bytes[index] == UInt8(ascii: "\"") else { throw error("expected a string key") }
            let key = try string()
            skipWhitespace()
            guard bytes[index] == UInt8(ascii: ":") else { throw error("expected ':'") }
            index += 1
            skipWhitespace()
            let v = try value(depth: depth + 1)
            guard result.updateValue(v, forKey: key) == nil else { throw error("duplicate key") }
            skipWhitespace()
            switch bytes[index] {
            case UInt8(ascii: ","): index += 1
            case UInt8(ascii: "}"): index += 1; return .object(result)
            default: throw error("expected ',' or '}'")
            }
        }
    }

    mutating func array(depth: Int) throws(JSONValue.ParseError) -> JSONValue {
        index += 1
        var result: [JSONValue] = []
        skipWhitespace()
        if bytes[index] == UInt8(ascii: "]") { index += 1; return .array(result) }
        while true {
            skipWhitespace()
            result.append(try value(depth: depth + 1))
            skipWhitespace()
            switch bytes[index] {
            case UInt8(ascii: ","): index += 1
            case UInt8(ascii: "]"): index += 1; return .array(result)
            default: throw error("expected ',' or ']'")
            }
        }
    }

    mutating func string() throws(JSONValue.ParseError) -> String {
        index += 1
        var out: [UInt8] = []
        while true {
            let b = bytes[index]
            switch b {
            case UInt8(ascii: "\""):
                index += 1
                return String(decoding: out, as: UTF8.self)
            case UInt8(ascii: "\\"):
                index += 1
                let e = bytes[index]
                index += 1
                switch e {
                case UInt8(ascii: "\""): out.append(0x22)
                case UInt8(ascii: "\\"): out.append(0x5C)
                case UInt8(ascii: "/"): out.append(0x2F)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"):
                    var scalar = try hex4()
                    if (0xD800..<0xDC00).contains(scalar), bytes[index] == UInt8(ascii: "\\"),
                       bytes[index + 1] == UInt8(ascii: "u") {
                        index += 2
                        let low = try hex4()
                        guard (0xDC00..<0xE000).contains(low) else { throw error("invalid surrogate pair") }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    }
                    let u = Unicode.Scalar(scalar) ?? "\u{FFFD}"
                    out.append(contentsOf: Array(String(Character(u)).utf8))
                default:
                    throw error("invalid escape")
                }
            case 0:
                if index == bytes.count - 1 { throw error("unterminated string") }
                throw error("control character in string")
            case 0x01..<0x20:
                throw error("control character in string")
            default:
                out.append(b)
                index += 1
            }
        }
    }

    mutating func hex4() throws(JSONValue.ParseError) -> UInt32 {
        var v: UInt32 = 0
        for _ in 0..<4 {
            let b = bytes[index]
            let d: UInt32
            switch b {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): d = UInt32(b - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): d = UInt32(b - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): d = UInt32(b - UInt8(ascii: "A") + 10)
            default: throw error("invalid \\u escape")
            }
            v = v * 16 + d
            index += 1
        }
        return v
    }

    mutating func number() throws(JSONValue.ParseError) -> Double {
        let start = index
        func isDigit(_ b: UInt8) -> Bool { b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") }
        if bytes[index] == UInt8(ascii: "-") { index += 1 }
        if bytes[index] == UInt8(ascii: "0") {
            index += 1
        } else if isDigit(bytes[index]) {
            while isDigit(bytes[index]) { index += 1 }
        } else {
            throw error("invalid number")
        }
        if bytes[index] == UInt8(ascii: ".") {
            index += 1
            guard isDigit(bytes[index]) else { throw error("invalid number") }
            while isDigit(bytes[index]) { index += 1 }
        }
        if bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            index += 1
            if bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
            guard isDigit(bytes[index]) else { throw error("invalid number") }
            while isDigit(bytes[index]) { index += 1 }
        }
        let text = String(decoding: bytes[start..<index], as: UTF8.self)
        guard let d = Double(text), d.isFinite else {
            index = start
            throw error("number \(text.prefix(40)) is not representable as a Double")
        }
        return d
    }
}
