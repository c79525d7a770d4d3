import Foundation
import OptimusSupport
import Testing

/// Non-finite numbers in results are JSON `null`, never a string such as "NaN" (issue 16).
@Suite struct NonFiniteJSONTests {
    struct Sample: Codable, Equatable {
        var a: Double
        var b: [Double]
        var c: Double?
        var text: String
    }

    @Test func nonFiniteNumbersAreWrittenAsNullAndReadBack() throws {
        let encoder = NonFiniteAsNullJSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let sample = Sample(a: .nan, b: [1, .infinity, -.infinity, 0.5], c: .nan, text: "NaN and \"null\"")
        let text = String(decoding: try encoder.encode(sample), as: UTF8.self)
        #expect(text == #"{"a":null,"b":[1,null,null,0.5],"c":null,"text":"NaN and \"null\""}"#)
        struct Reader: Decodable {
            var a: Double, b: [Double], c: Double?, missing: Double?
            enum CodingKeys: String, CodingKey { case a, b, c, missing }
            init(from decoder: any Decoder) throws {
                let k = try decoder.container(keyedBy: CodingKeys.self)
                a = try k.decodeNumber(forKey: .a)
                b = try k.decodeNumbers(forKey: .b, null: .infinity)
                c = try k.decodeNumberIfPresent(forKey: .c)
                missing = try k.decodeNumberIfPresent(forKey: .missing)
            }
        }
        let back = try JSONDecoder().decode(Reader.self, from: Data(text.utf8))
        #expect(back.a.isNaN && back.b == [1, .infinity, .infinity, 0.5] && back.c?.isNaN == true && back.missing == nil)
        // Finite output is byte-identical to a plain encoder's.
        let plain = JSONEncoder()
        plain.outputFormatting = [.sortedKeys]
        let finite = Sample(a: 1, b: [2], c: nil, text: "x")
        #expect(try encoder.encode(finite) == plain.encode(finite))
    }
}
