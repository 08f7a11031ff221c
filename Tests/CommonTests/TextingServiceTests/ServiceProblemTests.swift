import TextingDomain
import TextingFastCGI
import TextingPostgres
import TextingService
import XCTest

/// Where domain and database errors become problem documents (`Problem+Service`).
final class ServiceProblemTests: XCTestCase {
    func testDatabaseUnavailableIs503WithRetryAfter() {
        let problem = Problem.databaseUnavailable
        XCTAssertEqual(problem.code, .serviceUnavailable)
        XCTAssertEqual(problem.code.status, 503)
        let retryAfter = problem.headers.first { $0.name == "Retry-After" }?.value
        let seconds = retryAfter.flatMap { Int($0) } ?? 0
        XCTAssertGreaterThan(seconds, 0, "Retry-After must be whole positive seconds: \(String(describing: retryAfter))")
    }

    func testValidationErrorBecomes422WithItsOwnCodeAndField() {
        let problem = Problem(ValidationError(field: "message", code: .messageTooLong, detail: "too long"))
        XCTAssertEqual(problem.code, .messageTooLong)
        XCTAssertEqual(problem.field, "message")
        XCTAssertEqual(problem.detail, "too long")
    }

    func testEveryDomainRuleIsA422ProblemWithTheSameCode() {
        for rule in ValidationError.Code.allCases {
            let problem = Problem(ValidationError(rule, "d", field: "x"))
            XCTAssertEqual(problem.code.rawValue, rule.rawValue)
            XCTAssertEqual(problem.code.status, 422)
        }
    }

    func testOnlyTransientDatabaseErrorsBecome503() {
        let unavailable = PostgresError(kind: .connection, sqlState: nil, message: "no route", queryName: nil)
        XCTAssertEqual(Problem(unavailable)?.code, .serviceUnavailable)
        let syntax = PostgresError(kind: .statement, sqlState: "42601", message: "syntax error", queryName: "x")
        XCTAssertNil(Problem(syntax))
    }
}
