import Foundation
import OptimusNumerics
import Testing

@Suite struct SHA256Tests {
    /// The FIPS 180-4 examples (one block, two blocks) and the empty message.
    @Test func knownAnswers() {
        #expect(SHA256.hex(Data()) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(SHA256.hex(Data("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        // Two blocks (56 bytes → padding spills into a second block).
        #expect(SHA256.hex(Data("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8))
            == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        #expect(SHA256.hex(bytes: Array("abc".utf8)) == SHA256.hex(Data("abc".utf8)))
    }
}

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
