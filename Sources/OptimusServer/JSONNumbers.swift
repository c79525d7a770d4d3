/// JSON text for numbers, arrays and strings, written by hand for speed (a gradient of 1000 values per line).
enum JSONNumbers {
    /// The shortest decimal that round-trips to the same Double (Swift's `description`); `null` for NaN and ±∞,
    /// which JSON cannot represent.
    static func number(_ v: Double) -> String { v.isFinite ? v.description : "null" }

    /// `[a,b,…]`.
    static func array(_ values: [Double]) -> String {
        var s = "["
        s.reserveCapacity(values.count * 24 + 2)
        for (i, v) in values.enumerated() {
            if i > 0 { s += "," }
            s += number(v)
        }
        return s + "]"
    }

    /// A JSON string literal with the required escapes.
    static func string(_ text: String) -> String {
        var s = "\""
        for u in text.unicodeScalars {
            switch u {
            case "\"": s += "\\\""
            case "\\": s += "\\\\"
            case "\n": s += "\\n"
            case "\r": s += "\\r"
            case "\t": s += "\\t"
            default:
                if u.value < 0x20 {
                    let hex = String(u.value, radix: 16)
                    s += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    s.unicodeScalars.append(u)
                }
            }
        }
        return s + "\""
    }
}
