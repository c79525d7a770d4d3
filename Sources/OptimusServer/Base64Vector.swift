import Foundation

/// Vectors as base64 of little-endian IEEE-754 float64: exact by construction and about 50 times cheaper to encode and
/// decode than decimal text at d = 1000 (the protocol's `"encoding": "base64"`).
enum Base64Vector {
    static func encode(_ x: [Double]) -> String {
        var data = Data(count: 8 * x.count)
        data.withUnsafeMutableBytes { raw in
            for (i, v) in x.enumerated() { raw.storeBytes(of: v.bitPattern.littleEndian, toByteOffset: 8 * i, as: UInt64.self) }
        }
        return data.base64EncodedString()
    }

    /// nil unless the text is valid base64 of a whole number of float64 values.
    static func decode(_ text: String) -> [Double]? {
        guard let data = Data(base64Encoded: text), data.count % 8 == 0 else { return nil }
        return data.withUnsafeBytes { raw in
            (0..<(data.count / 8)).map { i in
                Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self)))
            }
        }
    }
}
