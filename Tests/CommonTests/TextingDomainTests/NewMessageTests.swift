import FoundationEssentials
import TextingDomain
import TextingSupport
import XCTest

final class NewMessageTests: XCTestCase {
    /// 2026-03-01T12:00:00Z
    private let now = Date(timeIntervalSince1970: 1_772_366_400)

    private func make(_ json: [String: JSONValue], country: String = "1") throws(ValidationError) -> NewMessage {
        try NewMessage(json: json, defaultCountryCode: country, now: now)
    }

    private func assertProblem(
        _ json: [String: JSONValue], _ code: ValidationError.Code, field: String,
        file: StaticString = #filePath, line: UInt = #line
    ) {
        do {
            let message = try make(json)
            XCTFail("expected \(code.rawValue), accepted \(message.to) \(message.body.text)", file: file, line: line)
        } catch {
            XCTAssertEqual(error.code, code, error.detail, file: file, line: line)
            XCTAssertEqual(error.field, field, file: file, line: line)
        }
    }

    func testValidBodyIsAccepted() throws {
        let message = try make(["to_number": "+1 (555) 555-0100", "message": "Your code is 123456"])
        XCTAssertEqual(message.to.e164, "+15555550100")
        XCTAssertEqual(message.body.text, "Your code is 123456")
        XCTAssertNil(message.sendAt)
        XCTAssertNil(message.validitySeconds)
    }

    func testNationalNumberTakesDefaultCountryCode() throws {
        let message = try NewMessage(json: ["to_number": "7700 900-123", "message": "hi"], defaultCountryCode: "44", now: now)
        XCTAssertEqual(message.to.e164, "+447700900123")
    }

    func testNullOptionalFieldsMeanNotGiven() throws {
        let message = try make(["to_number": "+15555550100", "message": "hi", "send_at": nil, "validity_period": nil])
        XCTAssertNil(message.sendAt)
        XCTAssertNil(message.validitySeconds)
    }

    func testMissingToNumberNamesTheField() {
        assertProblem(["message": "hi"], .missingField, field: "to_number")
    }

    func testMissingMessageNamesTheField() {
        assertProblem(["to_number": "+15555550100"], .missingField, field: "message")
    }

    func testEmptyBodyReportsToNumberFirst() {
        assertProblem([:], .missingField, field: "to_number")
    }

    func testNumberGivenAsJSONNumberIsWrongType() {
        assertProblem(["to_number": 15_555_550_100, "message": "hi"], .wrongType, field: "to_number")
    }

    func testNullRequiredFieldIsWrongType() {
        assertProblem(["to_number": nil, "message": "hi"], .wrongType, field: "to_number")
        assertProblem(["to_number": "+15555550100", "message": nil], .wrongType, field: "message")
    }

    func testMessageGivenAsArrayIsWrongType() {
        assertProblem(["to_number": "+15555550100", "message": ["hi"]], .wrongType, field: "message")
    }

    func testUnknownFieldIsRejectedAndNamed() {
        assertProblem(["to_number": "+15555550100", "message": "hi", "sender": "ACME"], .unknownField, field: "sender")
    }

    func testFromIsASenderOrNothing() throws {
        let message = try NewMessage(json: ["to_number": "+15555550100", "message": "hi", "from": "ACME"], defaultCountryCode: "1")
        XCTAssertEqual(message.from?.text, "ACME")
        XCTAssertNil(try NewMessage(json: ["to_number": "+15555550100", "message": "hi", "from": .null], defaultCountryCode: "1").from)
        assertProblem(["to_number": "+15555550100", "message": "hi", "from": "ACME Limited Co"], .invalidSender, field: "from")
        assertProblem(["to_number": "+15555550100", "message": "hi", "from": 42], .wrongType, field: "from")
    }

    func testMisspelledFieldIsUnknownRatherThanMissing() {
        assertProblem(["to": "+15555550100", "message": "hi"], .unknownField, field: "to")
    }

    func testInvalidPhoneNumberIsRejected() {
        assertProblem(["to_number": "not a number", "message": "hi"], .invalidPhoneNumber, field: "to_number")
        assertProblem(["to_number": "+1555555010", "message": "hi"], .invalidPhoneNumber, field: "to_number")
        assertProblem(["to_number": "", "message": "hi"], .invalidPhoneNumber, field: "to_number")
    }

    func testEmptyMessageIsRejected() {
        assertProblem(["to_number": "+15555550100", "message": ""], .messageEmpty, field: "message")
    }

    func testMessageOf1600CharactersIsAccepted() throws {
        let message = try make(["to_number": "+15555550100", "message": .string(String(repeating: "a", count: 1600))])
        XCTAssertEqual(message.body.text.count, 1600)
    }

    func testMessageOf1601CharactersIsTooLong() {
        assertProblem(["to_number": "+15555550100", "message": .string(String(repeating: "a", count: 1601))], .messageTooLong, field: "message")
    }

    func testMessageWithNULIsInvalidMessage() {
        assertProblem(["to_number": "+15555550100", "message": "a\u{0}b"], .invalidMessage, field: "message")
    }

    func testSendAtThatIsNotRFC3339IsInvalidParameter() {
        for text in ["tomorrow", "2026-13-01T09:30:00Z", "2026-12-01", "1772366400", ""] {
            assertProblem(["to_number": "+15555550100", "message": "hi", "send_at": .string(text)], .invalidParameter, field: "send_at")
        }
    }

    func testSendAtAsNumberIsWrongType() {
        assertProblem(["to_number": "+15555550100", "message": "hi", "send_at": 1_772_366_400], .wrongType, field: "send_at")
    }

    func testSendAtInThePastMeansSendNow() throws {
        let message = try make(["to_number": "+15555550100", "message": "hi", "send_at": "2026-03-01T11:59:00Z"])
        XCTAssertNil(message.sendAt)
    }

    func testSendAtEqualToNowMeansSendNow() throws {
        let message = try make(["to_number": "+15555550100", "message": "hi", "send_at": "2026-03-01T12:00:00Z"])
        XCTAssertNil(message.sendAt)
    }

    func testSendAtInTheFutureIsKept() throws {
        let message = try make(["to_number": "+15555550100", "message": "hi", "send_at": "2026-03-02T09:30:00Z"])
        XCTAssertEqual(message.sendAt, Date(timeIntervalSince1970: 1_772_366_400 + 21 * 3600 + 1800))
    }

    func testSendAtWithUTCOffsetIsConvertedToTheSameInstant() throws {
        let message = try make(["to_number": "+15555550100", "message": "hi", "send_at": "2026-03-02T11:30:00+02:00"])
        XCTAssertEqual(message.sendAt, Date(timeIntervalSince1970: 1_772_366_400 + 21 * 3600 + 1800))
    }

    func testSendAtWithMillisecondsAsJavaScriptWritesItIsKept() throws {
        // `new Date().toISOString()` always writes three fraction digits.
        let message = try make(["to_number": "+15555550100", "message": "hi", "send_at": "2026-03-02T09:30:00.000Z"])
        XCTAssertEqual(message.sendAt, Date(timeIntervalSince1970: 1_772_366_400 + 21 * 3600 + 1800))
    }

    func testSendAtWithoutUTCOffsetIsInvalidBecauseTheInstantIsAmbiguous() {
        assertProblem(["to_number": "+15555550100", "message": "hi", "send_at": "2026-03-02T09:30:00"], .invalidParameter, field: "send_at")
    }

    func testSendAt34DaysAheadIsKept() throws {
        let message = try make(["to_number": "+15555550100", "message": "hi", "send_at": "2026-04-04T12:00:00Z"])
        XCTAssertEqual(message.sendAt, Date(timeIntervalSince1970: 1_772_366_400 + 34 * 86_400))
    }

    func testSendAtMoreThan35DaysAheadIsRejected() {
        assertProblem(["to_number": "+15555550100", "message": "hi", "send_at": "2026-05-01T12:00:00Z"], .invalidParameter, field: "send_at")
    }

    func testValidityPeriodOf3600IsKept() throws {
        let message = try make(["to_number": "+15555550100", "message": "hi", "validity_period": 3600])
        XCTAssertEqual(message.validitySeconds, 3600)
    }

    func testValidityPeriodBoundsAreOneSecondToOneWeek() throws {
        XCTAssertEqual(try make(["to_number": "+15555550100", "message": "hi", "validity_period": 1]).validitySeconds, 1)
        XCTAssertEqual(try make(["to_number": "+15555550100", "message": "hi", "validity_period": 604_800]).validitySeconds, 604_800)
        assertProblem(["to_number": "+15555550100", "message": "hi", "validity_period": 604_801], .invalidParameter, field: "validity_period")
    }

    func testValidityPeriodZeroIsRejected() {
        assertProblem(["to_number": "+15555550100", "message": "hi", "validity_period": 0], .invalidParameter, field: "validity_period")
    }

    func testNegativeValidityPeriodIsRejected() {
        assertProblem(["to_number": "+15555550100", "message": "hi", "validity_period": -60], .invalidParameter, field: "validity_period")
    }

    func testFractionalValidityPeriodIsRejected() {
        assertProblem(["to_number": "+15555550100", "message": "hi", "validity_period": .number(1.5)], .invalidParameter, field: "validity_period")
    }

    func testHugeValidityPeriodIsRejectedWithoutOverflow() {
        assertProblem(["to_number": "+15555550100", "message": "hi", "validity_period": .number(1e300)], .invalidParameter, field: "validity_period")
    }

    func testValidityPeriodAsStringIsWrongType() {
        assertProblem(["to_number": "+15555550100", "message": "hi", "validity_period": "3600"], .wrongType, field: "validity_period")
    }

    func testValidityPeriodAsBoolIsWrongType() {
        assertProblem(["to_number": "+15555550100", "message": "hi", "validity_period": true], .wrongType, field: "validity_period")
    }

    func testBodyParsedFromJSONTextIsValidated() throws {
        let json = try JSONValue.parse(Array(#"{"to_number":"+447700900123","message":"Caf\u00e9 \ud83d\ude00","validity_period":600}"#.utf8))
        guard case .object(let members) = json else { return XCTFail("not an object") }
        let message = try make(members)
        XCTAssertEqual(message.to.e164, "+447700900123")
        XCTAssertEqual(message.body.text, "Café 😀")
        XCTAssertEqual(message.validitySeconds, 600)
    }
}
