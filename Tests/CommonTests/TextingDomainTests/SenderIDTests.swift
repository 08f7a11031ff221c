import TextingDomain
import XCTest

final class SenderIDTests: XCTestCase {
    func testNumbersShortCodesAndAlphanumericIDsAreSenders() throws {
        XCTAssertEqual(try SenderID(validating: "+15555550100").kind, .phoneNumber)
        XCTAssertEqual(try SenderID(validating: "+4930123").kind, .phoneNumber)
        XCTAssertEqual(try SenderID(validating: "55555").kind, .shortCode)
        XCTAssertEqual(try SenderID(validating: "123").kind, .shortCode)
        XCTAssertEqual(try SenderID(validating: "12345678").kind, .shortCode)
        XCTAssertEqual(try SenderID(validating: "ACME").kind, .alphanumeric)
        XCTAssertEqual(try SenderID(validating: "ACME Ltd").text, "ACME Ltd")
        XCTAssertEqual(try SenderID(validating: "Shop-24.de").kind, .alphanumeric)
        XCTAssertEqual(try SenderID(validating: "A").kind, .alphanumeric)
        XCTAssertEqual(try SenderID(validating: "1234567890a").kind, .alphanumeric, "11 characters, one a letter")
    }

    func testAnythingElseIsRefusedNamingTheField() {
        for bad in [
            "", "+", "+0123456789", "+123456", "+1234567890123456", "+1 555 555", "12", "123456789", "ACME Limited", "AC/ME", " ACME", "ACME ",
            "ÄCME", "AC\u{0}ME", "1234-5678", "----", "12345678901a",
        ] {
            XCTAssertThrowsError(try SenderID(validating: bad), bad.debugDescription) { error in
                XCTAssertEqual((error as? ValidationError)?.code, .invalidSender, bad.debugDescription)
                XCTAssertEqual((error as? ValidationError)?.field, "from")
            }
        }
    }
}
