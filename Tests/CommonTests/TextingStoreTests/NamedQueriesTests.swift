import XCTest

@testable import TextingStore

final class NamedQueriesTests: XCTestCase {
    func testEveryNamedStatementHasItsOwnName() {
        let names = NamedQueries.all.map(\.name)
        XCTAssertEqual(Set(names).count, names.count, "two statements share a name")
        XCTAssertEqual(NamedQueries.named("jobs.claim")?.sql, JobQueue.claim.sql)
        XCTAssertNil(NamedQueries.named("jobs.nothing"))
    }
}
