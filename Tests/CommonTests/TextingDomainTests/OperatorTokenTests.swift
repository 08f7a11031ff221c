import TextingDomain
import XCTest

final class OperatorTokenTests: XCTestCase {
    func testTokensAreRandomWellFormedAndStoredOnlyAsTheirHash() {
        let first = OperatorToken.generate()
        let second = OperatorToken.generate()
        XCTAssertNotEqual(first, second)
        XCTAssertTrue(OperatorToken.isWellFormed(first))
        XCTAssertEqual(first.count, 47)
        XCTAssertEqual(OperatorToken.prefix(of: first), String(first.prefix(10)))
        XCTAssertEqual(OperatorToken.hash(first).count, 64)
        XCTAssertEqual(OperatorToken.hash(first), OperatorToken.hash(first))
        XCTAssertFalse(OperatorToken.hash(first).contains(first))
    }

    func testAnAPIKeyIsNeverAnOperatorToken() {
        let key = APIKey.generateSecret()
        XCTAssertFalse(OperatorToken.isWellFormed(key))
        XCTAssertFalse(OperatorToken.isWellFormed(""))
        XCTAssertFalse(OperatorToken.isWellFormed("txo_"))
        XCTAssertFalse(OperatorToken.isWellFormed("txo_" + String(repeating: "a", count: 42) + "!"))
        XCTAssertFalse(OperatorToken.isWellFormed("txo_" + String(repeating: "a", count: 44)))
        XCTAssertTrue(OperatorToken.isWellFormed("txo_" + String(repeating: "a", count: 42) + "-"))
    }
}
