import TextingStore
import XCTest

final class NamedQueriesTests: XCTestCase {
    func testEveryNamedStatementHasItsOwnName() {
        let names = NamedQueries.all.map(\.name)
        XCTAssertEqual(Set(names).count, names.count, "two statements share a name")
        XCTAssertTrue(NamedQueries.named("jobs.claim")?.sql.contains("FOR UPDATE SKIP LOCKED") == true)
        XCTAssertNil(NamedQueries.named("jobs.nothing"))
    }
}
