import TextingDomain
import TextingPostgres
import TextingStore
import XCTest

final class MessageRecordTests: XCTestCase {
    private let columns = [
        "id", "to_number", "body", "status", "segments", "encoding", "provider", "provider_message_id", "attempts",
        "error_code", "error_detail", "provider_error_code", "cost", "created_at", "updated_at", "send_at", "expires_at", "sent_at", "delivered_at",
        "failed_at", "canceled_at",
    ]

    private func row(status: String = "sent", internalID: String? = nil) -> PostgresRow {
        let values: [String?] = [
            "3f2504e0-4f89-41d3-9a0c-0305e82c3301", "+15555550100", "hi", status, "1", "GSM-7", "p1", "p1-7", "1",
            nil, nil, nil, "0.015000", "2026-12-03T10:00:00.000Z", "2026-12-03T10:00:01.000Z", nil, nil, "2026-12-03T10:00:01.000Z",
            nil, nil, nil,
        ]
        return internalID.map { PostgresRow(columns: columns + ["internal_id"], values: values + [$0]) } ?? PostgresRow(columns: columns, values: values)
    }

    func testARowOfTheMessageColumnsBecomesATypedRecord() throws {
        let record = try MessageRecord(row: row())
        XCTAssertEqual(record.status, .sent)
        XCTAssertEqual(record.segments, 1)
        XCTAssertEqual(record.providerMessageID, "p1-7")
        XCTAssertNil(record.errorCode)
        XCTAssertNil(record.providerErrorCode)
        XCTAssertEqual(record.cost, "0.015000")
        XCTAssertNil(record.internalID, "only a listing selects the internal id")
        XCTAssertEqual(try MessageRecord(row: row(internalID: "42")).internalID, 42)
    }

    func testAnUnknownStatusIsASchemaDriftNotAGuess() {
        XCTAssertThrowsError(try MessageRecord(row: row(status: "teleported")))
    }
}
