import TextingPostgres
import XCTest

final class PostgresErrorTests: XCTestCase {
    private func error(_ sqlState: String?, kind: PostgresError.Kind = .statement) -> PostgresError {
        PostgresError(kind: kind, sqlState: sqlState, message: "m", queryName: "q")
    }

    func testLostRacesAreConflictsThatCanBeRetried() {
        for state in ["40P01", "40001", "55P03"] {
            XCTAssertTrue(error(state).isConflict, state)
            XCTAssertTrue(error(state).isTransient, state)
            XCTAssertFalse(error(state).isUnavailable, state)
        }
    }

    func testStatementTimeoutIsTransientButNotAConflict() {
        XCTAssertTrue(error("57014").isTransient)
        XCTAssertFalse(error("57014").isConflict)
    }

    func testBadInputIsNeitherTransientNorAConflict() {
        for state in ["22P02", "23505", "42601", nil] {
            XCTAssertFalse(error(state).isTransient, state ?? "nil")
            XCTAssertFalse(error(state).isConflict, state ?? "nil")
        }
        XCTAssertFalse(error(nil, kind: .invalidParameter).isTransient)
        XCTAssertTrue(error(nil, kind: .connection).isTransient)
    }
}
