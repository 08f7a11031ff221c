import TextingDomain
import XCTest

final class MessageBodyTests: XCTestCase {
    private func assertRejected(
        _ text: String, code: ValidationError.Code,
        file: StaticString = #filePath, line: UInt = #line
    ) -> String {
        do {
            _ = try MessageBody(validating: text)
            XCTFail("message was accepted", file: file, line: line)
        } catch {
            XCTAssertEqual(error.field, "message", file: file, line: line)
            XCTAssertEqual(error.code, code, file: file, line: line)
            return error.detail
        }
        return ""
    }

    func testOrdinaryTextIsKeptVerbatimWithSegmentation() throws {
        let body = try MessageBody(validating: " Your code is 123456 ")
        XCTAssertEqual(body.text, " Your code is 123456 ")
        XCTAssertEqual(body.segmentation.encoding, .gsm7)
        XCTAssertEqual(body.segmentation.units, 21)
    }

    func testEmptyMessageIsRejected() {
        _ = assertRejected("", code: .messageEmpty)
    }

    func testExactlyMaximumLengthIsAccepted() throws {
        let body = try MessageBody(validating: String(repeating: "a", count: 1600))
        XCTAssertEqual(body.segmentation.segments, 11)
    }

    func testOneOverMaximumLengthIsRejectedWithLimitAndLength() {
        let detail = assertRejected(String(repeating: "a", count: 1601), code: .messageTooLong)
        XCTAssertTrue(detail.contains("1600"), detail)
        XCTAssertTrue(detail.contains("1601"), detail)
    }

    func testSixteenHundredEmojiAreAccepted() throws {
        let body = try MessageBody(validating: String(repeating: "😀", count: 1600))
        XCTAssertEqual(body.segmentation.encoding, .ucs2)
        XCTAssertEqual(body.segmentation.units, 3200)
        XCTAssertEqual(body.segmentation.segments, 49)  // 33 emoji per 67-unit segment: 48 full + 16
        _ = assertRejected(String(repeating: "😀", count: 1601), code: .messageTooLong)
    }

    func testLengthCountsScalarsNotCharacters() {
        // 800 visible characters, each an "e" plus a combining accent: 1600 scalars is fine,
        let decomposed = String(repeating: "e\u{0301}", count: 800)
        XCTAssertEqual(decomposed.count, 800)
        XCTAssertNoThrow(try MessageBody(validating: decomposed))
        // and 400 family emoji are 2000 scalars (each is man, ZWJ, woman, ZWJ, girl).
        let families = String(repeating: "👨‍👩‍👧", count: 400)
        XCTAssertEqual(families.count, 400)
        let detail = assertRejected(families, code: .messageTooLong)
        XCTAssertTrue(detail.contains("2000"), detail)
    }

    func testNULIsRejected() {
        let detail = assertRejected("abc\u{0}def", code: .invalidMessage)
        XCTAssertTrue(detail.contains("NUL"), detail)
        _ = assertRejected("\u{0}", code: .invalidMessage)
    }
}
