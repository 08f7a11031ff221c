import TextingDomain
import XCTest

final class ClientReferenceTests: XCTestCase {
    func testVisibleTextUpToSixtyFourCharactersIsKept() throws {
        XCTAssertEqual(try ClientReference(validating: "order-1042").text, "order-1042")
        XCTAssertEqual(try ClientReference(validating: String(repeating: "é", count: 64)).text.count, 64)
        // Counted in Unicode scalars, as JSON Schema counts: 32 letters with a combining accent are 64.
        XCTAssertNoThrow(try ClientReference(validating: String(repeating: "e\u{301}", count: 32)))
        XCTAssertThrowsError(try ClientReference(validating: String(repeating: "e\u{301}", count: 32) + "x"))
        XCTAssertEqual(try ClientReference(validating: "Bestellung 7 – München 🇩🇪").text, "Bestellung 7 – München 🇩🇪")
    }

    func testEmptyTooLongInvisibleOrPaddedReferencesAreRefused() {
        for text in ["", String(repeating: "x", count: 65), "a\nb", "a\u{0}b", "tab\there", "line\u{2028}separator", " lead", "trail ", "   "] {
            XCTAssertThrowsError(try ClientReference(validating: text), text.debugDescription) { error in
                XCTAssertEqual((error as? ValidationError)?.code, .invalidClientRef)
                XCTAssertEqual((error as? ValidationError)?.field, "client_ref")
            }
        }
    }

    func testNewMessageTakesAnOptionalClientRef() throws {
        let with = try NewMessage(json: ["to_number": "+15555550100", "message": "Hi", "client_ref": "ref-1"], defaultCountryCode: "1")
        XCTAssertEqual(with.clientRef?.text, "ref-1")
        let without = try NewMessage(json: ["to_number": "+15555550100", "message": "Hi", "client_ref": .null], defaultCountryCode: "1")
        XCTAssertNil(without.clientRef)
        XCTAssertThrowsError(try NewMessage(json: ["to_number": "+15555550100", "message": "Hi", "client_ref": 7], defaultCountryCode: "1")) { error in
            XCTAssertEqual((error as? ValidationError)?.code, .wrongType)
        }
    }
}
