import TextingDomain
import TextingSupport
import XCTest

final class NewMessageBatchTests: XCTestCase {
    private func batch(_ json: JSONValue) throws -> NewMessageBatch {
        guard case .object(let members) = json else { throw ValidationError(.wrongType, "not an object", field: "") }
        return try NewMessageBatch(json: members, defaultCountryCode: "1")
    }

    private func rule(_ json: JSONValue) -> (ValidationError.Code, String)? {
        do {
            _ = try batch(json)
            return nil
        } catch let error as ValidationError {
            return (error.code, error.field)
        } catch {
            return nil
        }
    }

    func testDefaultsFillWhatAMessageLacksAndEachMessageIsCheckedAlone() throws {
        let checked = try batch([
            "defaults": ["message": "Shipped", "client_ref": "campaign-7"],
            "messages": [["to_number": "+15555550100"], ["to_number": "12"], ["to_number": "(555) 555-0101", "message": "Own", "client_ref": .null]],
        ])
        XCTAssertEqual(checked.items.count, 3)
        let first = try checked.items[0].get()
        XCTAssertEqual(first.body.text, "Shipped")
        XCTAssertEqual(first.clientRef?.text, "campaign-7")
        XCTAssertThrowsError(try checked.items[1].get()) { error in
            XCTAssertEqual((error as? ValidationError)?.code, .invalidPhoneNumber)
        }
        let third = try checked.items[2].get()
        XCTAssertEqual(third.to.e164, "+15555550101")
        XCTAssertEqual(third.body.text, "Own")
        XCTAssertNil(third.clientRef, "a message's own null wins over the default")
    }

    func testTheBatchsShapeAndDefaultsAreCheckedWhole() {
        let one: JSONValue = ["to_number": "+15555550100", "message": "x"]
        XCTAssertEqual(rule([:])?.0, .missingField)
        XCTAssertEqual(rule(["messages": []])?.0, .invalidParameter)
        XCTAssertEqual(rule(["messages": .array(Array(repeating: one, count: 1001))])?.0, .invalidParameter)
        XCTAssertNil(rule(["messages": .array(Array(repeating: one, count: 1000))]))
        XCTAssertEqual(rule(["messages": one])?.0, .wrongType)
        XCTAssertEqual(rule(["messages": [one, "text"]]).map { [$0.0.rawValue, $0.1] }, ["wrong_type", "messages"])
        XCTAssertEqual(rule(["messages": [one], "more": 1]).map { [$0.0.rawValue, $0.1] }, ["unknown_field", "more"])
        XCTAssertEqual(rule(["messages": [one], "defaults": ["to_number": "+15555550100"]])?.1, "defaults.to_number")
        XCTAssertEqual(rule(["messages": [one], "defaults": ["send_at": 5]]).map { [$0.0.rawValue, $0.1] }, ["wrong_type", "defaults.send_at"])
        XCTAssertEqual(rule(["messages": [one], "defaults": ["message": ""]]).map { [$0.0.rawValue, $0.1] }, ["message_empty", "defaults.message"])
        XCTAssertEqual(rule(["messages": [one], "defaults": "x"])?.1, "defaults")
        XCTAssertNil(rule(["messages": [one], "defaults": .null]))
    }
}
