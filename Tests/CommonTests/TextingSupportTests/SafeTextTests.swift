import TextingSupport
import XCTest

final class SafeTextTests: XCTestCase {
    func testPlainTextIsUnchanged() {
        XCTAssertEqual(SafeText.escaped("message 3f25 failed: provider said no (400) — ça va"), "message 3f25 failed: provider said no (400) — ça va")
    }

    func testLineBreaksAndOtherControlCharactersAreEscaped() {
        XCTAssertEqual(
            SafeText.escaped("a\r\nb\u{0}c\u{1b}[31md\u{7f}e\u{85}f\u{2028}g"),
            #"a\u{d}\u{a}b\u{0}c\u{1b}[31md\u{7f}e\u{85}f\u{2028}g"#)
    }

    func testEscapedTextIsBoundedInBytes() {
        let text = SafeText.escaped(String(repeating: "é", count: 10_000), maximumBytes: 101)
        XCTAssertLessThanOrEqual(text.utf8.count, 101 + "…".utf8.count)
        XCTAssertTrue(text.hasSuffix("…"))
        XCTAssertLessThanOrEqual(SafeText.escaped(String(repeating: "\n", count: 1000), maximumBytes: 50).utf8.count, 50 + "…".utf8.count)
    }

    func testExcerptOfInvalidUTF8ShowsTheBytes() {
        XCTAssertEqual(SafeText.excerpt([0x6F, 0x6B, 0xFF, 0x00, 0x0A, 0xC3]), #"ok\xff\x00\x0a\xc3"#)
    }

    func testExcerptCutInsideACharacterStaysUTF8() {
        let body = Array(String(repeating: "é", count: 300).utf8)
        let excerpt = SafeText.excerpt(body, maximumBytes: 201)
        XCTAssertTrue(excerpt.hasPrefix("éé"))
        XCTAssertFalse(excerpt.contains(#"\x"#), excerpt)
        XCTAssertTrue(excerpt.hasSuffix("…"))
    }

    func testExcerptOfAHugeBodyReadsOnlyItsStart() {
        let excerpt = SafeText.excerpt(Array(repeating: UInt8(0x41), count: 50 * 1024 * 1024))
        XCTAssertEqual(excerpt, String(repeating: "A", count: 200) + "…")
    }

    func testControlCharactersAreFound() {
        XCTAssertTrue(SafeText.containsControlCharacters("a\u{0}"))
        XCTAssertFalse(SafeText.containsControlCharacters("p1-6f1c é"))
    }

    func testMaskingReplacesEverySpellingOfEachSecret() {
        let body = Array(#"to +15555550123 (15555550123): "Hi \"Ann\"\nbye" / Hi "Ann""#.utf8) + [0x0A] + Array("bye".utf8)
        let masked = SafeText.masking(body, [("[message]", "Hi \"Ann\"\nbye"), ("[number]", "+15555550123"), ("[number]", "15555550123")])
        XCTAssertEqual(String(decoding: masked, as: UTF8.self), #"to [number] ([number]): "[message]" / [message]"#)
        XCTAssertEqual(SafeText.masking([1, 2, 3], [("x", "")]), [1, 2, 3])
    }
}
