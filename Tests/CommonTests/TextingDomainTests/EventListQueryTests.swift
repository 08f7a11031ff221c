import TextingDomain
import XCTest

final class EventListQueryTests: XCTestCase {
    func testCursorRoundTripsThePosition() {
        let position = EventListQuery.Position(xact: 18_446_744_073_709_551_000, id: 42)
        XCTAssertEqual(EventListQuery.Position(cursor: position.cursor), position)
    }

    func testCursorsNotHandedOutAreRefused() {
        for text in ["", "e1:1:2", "not base64!", String(repeating: "A", count: 200), EventListQuery.Position(xact: 1, id: 2).cursor + "x"] {
            XCTAssertNil(EventListQuery.Position(cursor: text), text)
        }
        // A messages cursor ("v1:<id>") is not an events cursor.
        XCTAssertNil(EventListQuery.Position(cursor: MessageListQuery.cursor(before: 7)))
    }

    func testDefaultsAreEveryTypeFromTheStartTwentyAtATime() throws {
        let query = try EventListQuery(parameters: [:])
        XCTAssertNil(query.after)
        XCTAssertEqual(query.types, [])
        XCTAssertEqual(query.limit, 20)
    }

    func testTypeListIsCommaSeparatedAndChecked() throws {
        let query = try EventListQuery(parameters: ["type": "message.sent, message.failed"])
        XCTAssertEqual(query.types, [.messageSent, .messageFailed])
        XCTAssertThrowsError(try EventListQuery(parameters: ["type": "message.sent,"])) { error in
            XCTAssertEqual((error as? ValidationError)?.field, "type")
        }
        XCTAssertThrowsError(try EventListQuery(parameters: ["type": "message.teleported"]))
    }

    func testUnknownParametersAndBadLimitsNameTheParameter() {
        for (parameters, field) in [(["since": "x"], "since"), (["limit": "101"], "limit"), (["limit": "0"], "limit"), (["after": "zz"], "after")] {
            XCTAssertThrowsError(try EventListQuery(parameters: parameters)) { error in
                XCTAssertEqual((error as? ValidationError)?.field, field)
                XCTAssertEqual((error as? ValidationError)?.code, .invalidParameter)
            }
        }
    }
}
