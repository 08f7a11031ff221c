import TextingFastCGI
import TextingSupport
import XCTest

final class ProblemTests: XCTestCase {
    func testDocumentHasTypeTitleStatusDetailAndCode() {
        let problem = Problem(.missingField, "`message` is required.")
        let document = problem.document(requestID: nil)
        XCTAssertEqual(
            document,
            .object([
                "type": "urn:texting:problem:missing_field",
                "title": "A required field is missing",
                "status": 422,
                "detail": "`message` is required.",
                "code": "missing_field",
            ]))
    }

    func testDocumentIncludesFieldAndRequestIDWhenGiven() {
        let problem = Problem(.invalidPhoneNumber, "bad number", field: "to_number")
        let document = problem.document(requestID: "4f1c2a9e8b7d")
        XCTAssertEqual(document["field"], "to_number")
        XCTAssertEqual(document["request_id"], "4f1c2a9e8b7d")
        XCTAssertEqual(document["status"], .number(422))
    }

    func testEmptyRequestIDIsLeftOut() {
        XCTAssertNil(Problem(.notFound, "gone").document(requestID: "")["request_id"])
        XCTAssertNil(Problem(.notFound, "gone").document(requestID: nil)["field"])
    }

    func testDocumentSerializesWithStatusAsInteger() {
        let text = String(decoding: Problem(.rateLimited, "slow down").document(requestID: nil).serialized(), as: UTF8.self)
        XCTAssertTrue(text.contains(#""status":429"#), text)
        XCTAssertFalse(text.contains("429.0"), text)
    }

    func testMethodNotAllowedSetsAllowHeaderListingMethods() {
        let problem = Problem.methodNotAllowed("DELETE", allowed: ["GET", "POST"])
        XCTAssertEqual(problem.code, .methodNotAllowed)
        XCTAssertEqual(problem.code.status, 405)
        XCTAssertEqual(problem.headers.count, 1)
        XCTAssertEqual(problem.headers.first?.name, "Allow")
        XCTAssertEqual(problem.headers.first?.value, "GET, POST")
        XCTAssertTrue(problem.detail.contains("DELETE"), problem.detail)
    }

    func testProblemResponseCarriesStatusContentTypeAndHeaders() throws {
        let response = HTTPServerResponse.problem(Problem(.serviceUnavailable, "Try later.", headers: [("Retry-After", "5")]), requestID: "req-1")
        XCTAssertEqual(response.status, 503)
        XCTAssertEqual(response.headers.first { $0.name == "Content-Type" }?.value, "application/problem+json")
        XCTAssertNotNil(response.headers.first { $0.name == "Retry-After" })
        let document = try JSONValue.parse(response.body)
        XCTAssertEqual(document["code"], "service_unavailable")
        XCTAssertEqual(document["request_id"], "req-1")
    }

    func testDescriptionNamesCodeAndDetail() {
        XCTAssertEqual(Problem(.notFound, "There is nothing at /x.").description, "not_found: There is nothing at /x.")
    }
}
