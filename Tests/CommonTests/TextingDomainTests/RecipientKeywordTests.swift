import TextingDomain
import XCTest

final class RecipientKeywordTests: XCTestCase {
    let keywords = try! RecipientKeywords()

    func testEveryDefaultKeywordIsReadWhateverItsCase() {
        for word in RecipientKeywords.defaultOptOut {
            XCTAssertEqual(keywords.keyword(of: word), .optOut, word)
            XCTAssertEqual(keywords.keyword(of: word.lowercased()), .optOut, word)
        }
        for word in RecipientKeywords.defaultOptIn { XCTAssertEqual(keywords.keyword(of: word.capitalized), .optIn, word) }
        for word in RecipientKeywords.defaultHelp { XCTAssertEqual(keywords.keyword(of: word), .help, word) }
    }

    func testSurroundingSpaceAndTrailingPunctuationAreIgnored() {
        for body in [" stop ", "Stop.", "STOP!", "stop?!", "\tSTOP\n", "STOP !"] {
            XCTAssertEqual(keywords.keyword(of: body), .optOut, body)
        }
    }

    func testAnythingMoreIsAMessageNotAKeyword() {
        for body in ["stop it", "STOP STOP", "\"STOP\"", "STOP-", "¡STOP", "please stop", "", "  ", "S TOP", "STOPP", "ＳＴＯＰ"] {
            XCTAssertNil(keywords.keyword(of: body), body)
        }
    }

    func testListsAreSettingsButAWordMeansOneThing() throws {
        let custom = try RecipientKeywords(optOut: ["arret", "STOP"], optIn: ["Reprise"], help: ["aide"])
        XCTAssertEqual(custom.keyword(of: "ARRET"), .optOut)
        XCTAssertEqual(custom.keyword(of: "reprise."), .optIn)
        XCTAssertNil(custom.keyword(of: "START"))
        XCTAssertThrowsError(try RecipientKeywords(optOut: ["STOP"], optIn: ["stop"]))
        XCTAssertThrowsError(try RecipientKeywords(optOut: ["STOP NOW"]))
        XCTAssertThrowsError(try RecipientKeywords(help: [""]))
    }
}
