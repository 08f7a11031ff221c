import TextingDomain
import XCTest

final class SMSSegmentationTests: XCTestCase {
    private func a(_ count: Int) -> String { String(repeating: "a", count: count) }

    private func assertSegmentation(
        _ text: String, _ encoding: SMSEncoding, segments: Int, units: Int,
        file: StaticString = #filePath, line: UInt = #line
    ) {
        let result = SMSSegmentation(text: text)
        XCTAssertEqual(result.encoding, encoding, file: file, line: line)
        XCTAssertEqual(result.segments, segments, file: file, line: line)
        XCTAssertEqual(result.units, units, file: file, line: line)
    }

    func testEveryGSMBasicCharacterCostsOneSeptet() {
        let basic =
            "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
            + "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
        XCTAssertEqual(basic.unicodeScalars.count, 127)
        let result = SMSSegmentation(text: basic)
        XCTAssertEqual(result.encoding, .gsm7)
        XCTAssertEqual(result.units, 127)
        XCTAssertEqual(result.segments, 1)
    }

    func testExtensionCharactersCostTwoSeptets() {
        assertSegmentation("€", .gsm7, segments: 1, units: 2)
        let result = SMSSegmentation(text: "\u{0C}^{}\\[~]|€")
        XCTAssertEqual(result.encoding, .gsm7)
        XCTAssertEqual(result.units, 20)
    }

    func testCRLFIsTwoSeptets() {
        XCTAssertEqual(SMSSegmentation(text: "a\r\nb").units, 4)
    }

    func testGSMSegmentBoundaries() {
        XCTAssertEqual(SMSSegmentation(text: a(160)).segments, 1)
        XCTAssertEqual(SMSSegmentation(text: a(161)).segments, 2)
        XCTAssertEqual(SMSSegmentation(text: a(306)).segments, 2)
        XCTAssertEqual(SMSSegmentation(text: a(307)).segments, 3)
        XCTAssertEqual(SMSSegmentation(text: a(161)).units, 161)
    }

    func testEightyEurosFillOneSegment() {
        XCTAssertEqual(SMSSegmentation(text: String(repeating: "€", count: 80)).segments, 1)
        XCTAssertEqual(SMSSegmentation(text: String(repeating: "€", count: 81)).segments, 2)
    }

    func testExtensionCharacterAtSeptet153MovesToNextSegment() {
        // 306 septets would fit two segments exactly, but the € cannot straddle them.
        let result = SMSSegmentation(text: a(152) + "€" + a(152))
        XCTAssertEqual(result.units, 306)
        XCTAssertEqual(result.segments, 3)
        XCTAssertEqual(SMSSegmentation(text: a(151) + "€" + a(153)).segments, 2)
    }

    func testOneEmojiMakesUCS2() {
        let result = SMSSegmentation(text: a(10) + "😀")
        XCTAssertEqual(result.encoding, .ucs2)
        XCTAssertEqual(result.units, 12)
        XCTAssertEqual(result.segments, 1)
    }

    func testCharactersOutsideGSMMakeUCS2() {
        for text in ["ç", "`", "’", "\u{00A0}", "n\u{0303}", "Привет", "你好"] {
            XCTAssertEqual(SMSSegmentation(text: text).encoding, .ucs2, text)
        }
        XCTAssertEqual(SMSSegmentation(text: "Ça va? ñ").encoding, .gsm7)
    }

    func testUCS2SegmentBoundaries() {
        assertSegmentation("ç" + a(69), .ucs2, segments: 1, units: 70)
        XCTAssertEqual(SMSSegmentation(text: "ç" + a(70)).segments, 2)
        XCTAssertEqual(SMSSegmentation(text: "ç" + a(133)).segments, 2)
        XCTAssertEqual(SMSSegmentation(text: "ç" + a(134)).segments, 3)
    }

    func testThirtyFiveEmojiFillOneSegment() {
        XCTAssertEqual(SMSSegmentation(text: String(repeating: "😀", count: 35)).segments, 1)
        XCTAssertEqual(SMSSegmentation(text: String(repeating: "😀", count: 36)).segments, 2)
    }

    func testSurrogatePairAtUnit67MovesToNextSegment() {
        // 134 units would fit two segments exactly, but the emoji cannot straddle them.
        let result = SMSSegmentation(text: "ç" + a(65) + "😀" + a(66))
        XCTAssertEqual(result.units, 134)
        XCTAssertEqual(result.segments, 3)
        XCTAssertEqual(SMSSegmentation(text: "ç" + a(64) + "😀" + a(67)).segments, 2)
    }

    func testFlagCountsFourUnits() {
        XCTAssertEqual(SMSSegmentation(text: "🇺🇸").units, 4)
    }

    func testEmptyTextIsOneEmptySegment() {
        assertSegmentation("", .gsm7, segments: 1, units: 0)
    }

    func testEncodingRawValuesAreWireNames() {
        XCTAssertEqual(SMSEncoding.gsm7.rawValue, "GSM-7")
        XCTAssertEqual(SMSEncoding.ucs2.rawValue, "UCS-2")
    }
}
