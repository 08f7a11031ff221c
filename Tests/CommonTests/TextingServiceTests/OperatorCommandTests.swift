import FoundationEssentials
import TextingService
import XCTest

final class OperatorCommandTests: XCTestCase {
    func testOperatorCommandsAreReadBeforeAnythingRuns() throws {
        XCTAssertEqual(try AdminCommand.parse(["operators", "create", "alice", "on", "call"]), .operatorsCreate(name: "alice on call"))
        XCTAssertEqual(try AdminCommand.parse(["operators", "list"]), .operatorsList)
        XCTAssertEqual(try AdminCommand.parse(["operators"]), .operatorsList)
        XCTAssertEqual(try AdminCommand.parse(["operators", "revoke", "6cee"]), .operatorsRevoke(id: "6cee"))
        XCTAssertNotNil(usageError(["operators", "create"]))
        XCTAssertNotNil(usageError(["operators", "create", String(repeating: "a", count: 101)]))
        XCTAssertNotNil(usageError(["operators", "revoke"]))
        XCTAssertNotNil(usageError(["operators", "revoke", "a", "b"]))
    }

    func testRequeueTakesOneIdOrOneErrorCode() throws {
        XCTAssertEqual(
            try AdminCommand.parse(["messages", "requeue", "--error-code", "provider_rejected"]), .messagesRequeueAll(errorCode: "provider_rejected"))
        XCTAssertNotNil(usageError(["messages", "requeue", "--error-code"]))
        XCTAssertNotNil(usageError(["messages", "requeue", "--error-code", "a", "b"]))
        XCTAssertNotNil(usageError(["messages", "requeue", "--error-code", String(repeating: "x", count: 65)]))
        XCTAssertNotNil(usageError(["messages", "requeue", "not-a-uuid"]))
    }
}
