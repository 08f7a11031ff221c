import TextingSupport
import XCTest

final class DigestTests: XCTestCase {
    private func bytes(hex: String) -> [UInt8] {
        var result: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            result.append(UInt8(hex[index..<next], radix: 16)!)
            index = next
        }
        return result
    }

    func testHMACSHA256MatchesRFC4231TestCase1() {
        let key = [UInt8](repeating: 0x0B, count: 20)
        let mac = Digest.hmacSHA256(key: key, data: Array("Hi There".utf8))
        XCTAssertEqual(Digest.hex(mac), "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7")
    }

    func testHMACSHA256MatchesRFC4231TestCase2() {
        let mac = Digest.hmacSHA256(key: Array("Jefe".utf8), data: Array("what do ya want for nothing?".utf8))
        XCTAssertEqual(Digest.hex(mac), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
    }

    func testHMACSHA256WithKeyLongerThanBlockMatchesRFC4231TestCase6() {
        let key = [UInt8](repeating: 0xAA, count: 131)
        let mac = Digest.hmacSHA256(key: key, data: Array("Test Using Larger Than Block-Size Key - Hash Key First".utf8))
        XCTAssertEqual(Digest.hex(mac), "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54")
    }

    func testHMACDependsOnKey() {
        let data = Array("v1|mid|1700000000".utf8)
        XCTAssertNotEqual(
            Digest.hmacSHA256(key: Array("secret-a".utf8), data: data),
            Digest.hmacSHA256(key: Array("secret-b".utf8), data: data))
    }

    func testSHA256OfABCMatchesKnownVector() {
        XCTAssertEqual(Digest.sha256Hex(Array("abc".utf8)), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(
            Digest.sha256(Array("abc".utf8)),
            bytes(hex: "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"))
    }

    func testSHA256OfEmptyInputMatchesKnownVector() {
        XCTAssertEqual(Digest.sha256Hex([]), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        XCTAssertEqual(Digest.sha256([]).count, 32)
    }

    func testSHA256OfTwoBlockMessageMatchesFIPSVector() {
        let message = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"
        XCTAssertEqual(Digest.sha256Hex(Array(message.utf8)), "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    }

    func testHexIsLowercaseTwoDigitsPerByte() {
        XCTAssertEqual(Digest.hex([0x00, 0x0F, 0xA0, 0xFF]), "000fa0ff")
        XCTAssertEqual(Digest.hex([]), "")
    }

    func testConstantTimeEqualAcceptsEqualBytes() {
        let a = Digest.sha256(Array("abc".utf8))
        XCTAssertTrue(Digest.constantTimeEqual(a, a))
        XCTAssertTrue(Digest.constantTimeEqual([], []))
    }

    func testConstantTimeEqualRejectsDifferenceInLastByte() {
        let a: [UInt8] = [1, 2, 3, 4]
        XCTAssertFalse(Digest.constantTimeEqual(a, [1, 2, 3, 5]))
        XCTAssertFalse(Digest.constantTimeEqual(a, [0, 2, 3, 4]))
    }

    func testConstantTimeEqualRejectsDifferentLengths() {
        XCTAssertFalse(Digest.constantTimeEqual([1, 2, 3], [1, 2, 3, 0]))
        XCTAssertFalse(Digest.constantTimeEqual([1, 2, 3], [1, 2]))
        XCTAssertFalse(Digest.constantTimeEqual([], [0]))
    }
}
