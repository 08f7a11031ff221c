import XCTest

// @testable: checks the libpq keywords a session becomes (`connectionParameters`), which
// nothing outside the module needs to see.
@testable import TextingPostgres

final class PostgresParameterTests: XCTestCase {
    /// libpq takes C strings: a NUL would cut the value short. The connection refuses it
    /// before it even connects (this one could not: nothing listens there).
    func testParameterWithANULIsRefusedWithATypedErrorNamingTheQuery() {
        let connection = PostgresConnection(conninfo: "host=/nonexistent-folder port=1 connect_timeout=2")
        do {
            try connection.execute(Query("test.nul", "SELECT $1::text, $2::text"), ["fine", "abc\u{0}def"])
            XCTFail("a NUL byte must be refused")
        } catch {
            XCTAssertEqual(error.kind, .invalidParameter)
            XCTAssertEqual(error.queryName, "test.nul")
            XCTAssertTrue(error.message.contains("$2"), error.message)
            XCTAssertFalse(error.isUnavailable)
        }
    }

    func testSessionLimitsTravelAsConnectionKeywords() {
        var session = PostgresSession()
        session.statementTimeoutMilliseconds = 1234
        session.lockTimeoutMilliseconds = 567
        session.idleInTransactionTimeoutMilliseconds = 8900
        session.connectTimeoutSeconds = 3
        session.keepalivesIdleSeconds = 12
        let parameters = Dictionary(uniqueKeysWithValues: session.connectionParameters)
        XCTAssertEqual(parameters["connect_timeout"], "3")
        XCTAssertEqual(parameters["keepalives"], "1")
        XCTAssertEqual(parameters["keepalives_idle"], "12")
        XCTAssertEqual(parameters["keepalives_interval"], "4")
        XCTAssertEqual(parameters["options"], "-c statement_timeout=1234 -c lock_timeout=567 -c idle_in_transaction_session_timeout=8900")
    }
}
