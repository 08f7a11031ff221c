import TextingDomain
import XCTest

final class PhoneNumberTests: XCTestCase {
    private func parse(_ raw: String, _ defaultCountryCode: String = "1") throws -> String {
        try PhoneNumber(parsing: raw, defaultCountryCode: defaultCountryCode).e164
    }

    private func assertInvalid(
        _ raw: String, _ defaultCountryCode: String = "1",
        file: StaticString = #filePath, line: UInt = #line
    ) {
        do {
            let number = try PhoneNumber(parsing: raw, defaultCountryCode: defaultCountryCode)
            XCTFail("`\(raw)` was accepted as \(number.e164)", file: file, line: line)
        } catch {
            XCTAssertEqual(error.field, "to_number", file: file, line: line)
            XCTAssertEqual(error.code, .invalidPhoneNumber, file: file, line: line)
        }
    }

    func testNationalNumberTakesDefaultCountryCode() throws {
        XCTAssertEqual(try parse("1112223333"), "+11112223333")
        XCTAssertEqual(try parse("020 7946 0958", "44"), "+4402079460958")
    }

    func testPunctuationIsRemoved() throws {
        XCTAssertEqual(try parse("(555) 555-0100"), "+15555550100")
        XCTAssertEqual(try parse("555.555.0100"), "+15555550100")
        XCTAssertEqual(try parse("555\t555\u{00A0}0100"), "+15555550100")
    }

    func testInternationalNumberIgnoresDefaultCountryCode() throws {
        XCTAssertEqual(try parse("+44 20 7946 0958"), "+442079460958")
        XCTAssertEqual(try parse("+1 555 555 0100", "44"), "+15555550100")
    }

    func testSameNumberInDifferentSpellingsIsEqual() throws {
        let a = try PhoneNumber(parsing: "+1 (555) 555-0100", defaultCountryCode: "1")
        let b = try PhoneNumber(parsing: "555.555.0100", defaultCountryCode: "1")
        XCTAssertEqual(a, b)
        XCTAssertEqual(Set([a, b]).count, 1)
        XCTAssertEqual(a.description, "+15555550100")
    }

    func testFifteenDigitsIsValidAndSixteenIsNot() throws {
        XCTAssertEqual(try parse("+491234567890123"), "+491234567890123")
        assertInvalid("+4912345678901234")
        assertInvalid("+1234567890123456")
    }

    func testSevenDigitsIsShortestValid() throws {
        XCTAssertEqual(try parse("+4412345"), "+4412345")
        assertInvalid("+441234")
    }

    func testNANPNumberMustHaveExactlyElevenDigits() {
        assertInvalid("555 0100")  // 7 local digits → +15550100
        assertInvalid("+1 555 555 010")  // 10 digits
        assertInvalid("+1 555 555 01000")  // 12 digits
        assertInvalid("15555550100")  // the trunk 1 is not stripped: +115555550100
    }

    func testLeadingZeroAfterPlusIsInvalid() {
        assertInvalid("+0123456789")
    }

    func testGarbageIsInvalid() {
        for raw in [
            "12", "", "+", "  ", "abc", "++15555550100", "1-800-FLOWERS", "+1 555 555 0100 x12",
            "555+5550100", "+١٥٥٥٥٥٥٠١٠٠",
        ] {
            assertInvalid(raw)
        }
    }

    func testInvalidDefaultCountryCodeRejectsNationalNumbers() {
        assertInvalid("5555550100", "")
        assertInvalid("5555550100", "+1")
        assertInvalid("5555550100", "0")
    }

    func testErrorDetailNamesInputAndExample() {
        XCTAssertThrowsError(try PhoneNumber(parsing: "12", defaultCountryCode: "1")) { error in
            XCTAssertEqual(
                (error as? ValidationError)?.detail,
                "`to_number` must be an E.164 number such as +15555550100, or a national number "
                    + "that takes the default country code +1; got `12`."
            )
        }
    }

    func testErrorDetailTruncatesLongInput() {
        let raw = String(repeating: "9", count: 31) + "ABCDEFGHIJ"
        XCTAssertThrowsError(try PhoneNumber(parsing: raw, defaultCountryCode: "1")) { error in
            let detail = (error as? ValidationError)?.detail ?? ""
            XCTAssertTrue(detail.hasSuffix("got `\(String(repeating: "9", count: 31))…`."), detail)
            XCTAssertFalse(detail.contains("ABC"))
        }
    }

    func testCountryCodeValidation() {
        for valid in ["1", "44", "353", "9"] {
            XCTAssertTrue(PhoneNumber.isValidCountryCode(valid), valid)
        }
        for invalid in ["", "0", "01", "1234", "+1", "4a", " 1", "١"] {
            XCTAssertFalse(PhoneNumber.isValidCountryCode(invalid), invalid)
        }
    }
}
