import TextingDomain
import TextingSupport
import XCTest

final class InboundMessageTests: XCTestCase {
    private func parse(_ fields: [String: JSONValue]) throws(ValidationError) -> InboundMessage {
        var json: [String: JSONValue] = ["from": "(555) 555-0100", "to": "12345", "message": "STOP", "provider_message_id": "abc-1"]
        for (name, value) in fields { json[name] = value }
        return try InboundMessage(json: json, defaultCountryCode: "1")
    }

    func testAReplyIsReadWithTheNumberNormalisedAndExtraFieldsIgnored() throws {
        let message = try parse(["carrier": "x"])
        XCTAssertEqual(message.from.e164, "+15555550100")
        XCTAssertEqual(message.to, "12345")
        XCTAssertEqual(message.body.text, "STOP")
        XCTAssertEqual(message.providerMessageID, "abc-1")
    }

    func testTheNumberRepliedToIsASenderWhenItCanBeOne() throws {
        let cases: [(String, String?)] = [
            ("+15550007777", "+15550007777"), ("15550007777", "+15550007777"), ("12345", "12345"), ("ACME", "ACME"),
            ("0015550007777", nil), ("ACME_Co", nil), ("12", nil), ("+0123456789", nil),
        ]
        for (to, sender) in cases {
            XCTAssertEqual(try parse(["to": .string(to)]).repliedTo?.text, sender, to)
        }
    }

    func testEachBadFieldIsNamed() {
        let cases: [([String: JSONValue], ValidationError.Code, String)] = [
            (["from": "12"], .invalidPhoneNumber, "from"),
            (["from": 5], .wrongType, "from"),
            (["to": "a b"], .invalidParameter, "to"),
            (["to": .string(String(repeating: "9", count: 33))], .invalidParameter, "to"),
            (["message": ""], .messageEmpty, "message"),
            (["provider_message_id": .string(String(repeating: "x", count: 201))], .invalidParameter, "provider_message_id"),
            (["provider_message_id": "a\u{7}b"], .invalidParameter, "provider_message_id"),
        ]
        for (fields, code, field) in cases {
            XCTAssertThrowsError(try parse(fields), "\(fields)") { error in
                XCTAssertEqual((error as? ValidationError)?.code, code, "\(fields)")
                XCTAssertEqual((error as? ValidationError)?.field, field, "\(fields)")
            }
        }
        XCTAssertThrowsError(try InboundMessage(json: ["to": "1", "message": "x", "provider_message_id": "1"], defaultCountryCode: "1")) { error in
            XCTAssertEqual((error as? ValidationError)?.code, .missingField)
        }
    }
}
