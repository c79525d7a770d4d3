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
