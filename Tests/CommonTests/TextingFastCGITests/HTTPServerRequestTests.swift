import TextingFastCGI
import XCTest

final class HTTPServerRequestTests: XCTestCase {
    private func query(_ text: String) -> [String: String] {
        HTTPServerRequest(method: "GET", path: "/messages", queryString: text).queryParameters
    }

    private func request(contentType: String?, body: String) -> HTTPServerRequest {
        HTTPServerRequest(
            method: "POST", path: "/messages",
            headers: contentType.map { ["content-type": $0] } ?? [:],
            body: Array(body.utf8))
    }

    private func assertProblem(
        _ request: HTTPServerRequest, _ code: ProblemCode, status: Int,
        file: StaticString = #filePath, line: UInt = #line
    ) {
        do {
            let members = try request.jsonObject()
            XCTFail("expected \(code.rawValue), got \(members)", file: file, line: line)
        } catch {
            XCTAssertEqual(error.code, code, file: file, line: line)
            XCTAssertEqual(error.code.status, status, file: file, line: line)
            XCTAssertFalse(error.detail.isEmpty, file: file, line: line)
        }
    }

    // MARK: - queryParameters

    func testQueryParametersArePercentDecoded() {
        let parameters = query("to=%2B15555550100&text=caf%C3%A9%20%F0%9F%98%80&slash=a%2Fb")
        XCTAssertEqual(parameters["to"], "+15555550100")
        XCTAssertEqual(parameters["text"], "café 😀")
        XCTAssertEqual(parameters["slash"], "a/b")
    }

    func testLowercaseAndUppercaseHexEscapesBothDecode() {
        XCTAssertEqual(query("a=%2f%2F")["a"], "//")
    }

    func testPlusIsDecodedAsSpace() {
        XCTAssertEqual(query("status=in+flight&name=a+b%2Bc")["status"], "in flight")
        XCTAssertEqual(query("status=in+flight&name=a+b%2Bc")["name"], "a b+c")
    }

    func testNamesArePercentDecodedToo() {
        XCTAssertEqual(query("my%20key=1")["my key"], "1")
    }

    func testRepeatedNameKeepsTheFirstValue() {
        XCTAssertEqual(query("status=queued&status=delivered")["status"], "queued")
    }

    func testMalformedPercentEscapeIsSkipped() {
        let parameters = query("bad=%zz&short=%4&good=ok&trailing=%")
        XCTAssertNil(parameters["bad"])
        XCTAssertNil(parameters["short"])
        XCTAssertNil(parameters["trailing"])
        XCTAssertEqual(parameters["good"], "ok")
        XCTAssertEqual(parameters.count, 1)
    }

    func testMalformedFirstValueLetsALaterWellFormedValueThrough() {
        XCTAssertEqual(query("limit=%G1&limit=10")["limit"], "10")
    }

    func testEscapeDecodingToInvalidUTF8IsSkipped() {
        XCTAssertNil(query("a=%FF")["a"])
        XCTAssertNil(query("a=%C3")["a"])
    }

    func testNameWithoutValueIsEmptyString() {
        let parameters = query("flag&other=")
        XCTAssertEqual(parameters["flag"], "")
        XCTAssertEqual(parameters["other"], "")
    }

    func testValueMayContainEqualsSign() {
        XCTAssertEqual(query("sig=abc==&x=1")["sig"], "abc==")
    }

    func testEmptyPairsAndEmptyQueryAreIgnored() {
        XCTAssertEqual(query(""), [:])
        XCTAssertEqual(query("&&a=1&&"), ["a": "1"])
    }

    func testHeaderLookupIsCaseInsensitiveOnTheRequestedName() {
        let request = HTTPServerRequest(method: "GET", path: "/", headers: ["content-type": "application/json"])
        XCTAssertEqual(request.header("Content-Type"), "application/json")
        XCTAssertNil(request.header("Accept"))
    }

    // MARK: - jsonObject()

    func testMissingContentTypeIs415() {
        assertProblem(request(contentType: nil, body: #"{"a":1}"#), .unsupportedMediaType, status: 415)
    }

    func testTextPlainIs415EvenWithValidJSONBody() {
        assertProblem(request(contentType: "text/plain", body: #"{"a":1}"#), .unsupportedMediaType, status: 415)
        assertProblem(request(contentType: "application/x-www-form-urlencoded", body: #"{"a":1}"#), .unsupportedMediaType, status: 415)
    }

    func testJSONLikeButNonApplicationTypeIs415() {
        assertProblem(request(contentType: "text/json", body: #"{"a":1}"#), .unsupportedMediaType, status: 415)
        assertProblem(request(contentType: "application/jsonx", body: #"{"a":1}"#), .unsupportedMediaType, status: 415)
    }

    func testUnsupportedMediaTypeIsCheckedBeforeTheBody() {
        assertProblem(request(contentType: "text/plain", body: "not json"), .unsupportedMediaType, status: 415)
    }

    func testApplicationJSONWithCharsetIsAccepted() throws {
        let members = try request(contentType: "application/json; charset=utf-8", body: #"{"message":"hé"}"#).jsonObject()
        XCTAssertEqual(members, ["message": .string("hé")])
    }

    func testMediaTypeIsCaseInsensitiveAndTrimmed() throws {
        let members = try request(contentType: "  Application/JSON ;charset=UTF-8", body: #"{"a":true}"#).jsonObject()
        XCTAssertEqual(members["a"], .bool(true))
    }

    func testStructuredSyntaxJSONSuffixIsAccepted() throws {
        XCTAssertEqual(try request(contentType: "application/merge-patch+json", body: #"{"a":null}"#).jsonObject(), ["a": .null])
        XCTAssertEqual(try request(contentType: "application/problem+json; charset=utf-8", body: "{}").jsonObject(), [:])
    }

    func testBadJSONIs400MalformedJSON() {
        assertProblem(request(contentType: "application/json", body: #"{"to_number":"+1555"#), .malformedJSON, status: 400)
        assertProblem(request(contentType: "application/json", body: ""), .malformedJSON, status: 400)
        assertProblem(request(contentType: "application/json", body: "{} trailing"), .malformedJSON, status: 400)
    }

    func testInvalidUTF8BodyIs400MalformedJSON() {
        let request = HTTPServerRequest(method: "POST", path: "/messages", headers: ["content-type": "application/json"], body: [0xFF])
        assertProblem(request, .malformedJSON, status: 400)
    }

    func testTopLevelArrayIs422WrongType() {
        assertProblem(request(contentType: "application/json", body: #"[{"to_number":"+15555550100"}]"#), .wrongType, status: 422)
    }

    func testTopLevelScalarsAre422WrongTypeWhenParsed() {
        // A bare scalar is either rejected as malformed or parsed and rejected as the wrong type; never accepted.
        for body in ["\"text\"", "42", "true", "null"] {
            XCTAssertThrowsError(try request(contentType: "application/json", body: body).jsonObject(), body) { error in
                let code = (error as? Problem)?.code
                XCTAssertTrue(code == .wrongType || code == .malformedJSON, "\(body): \(String(describing: code))")
            }
        }
    }

    // MARK: - JSON the parser refuses

    func testTrailingCommaBodyIsAnswered400NamingTheProblem() {
        let request = HTTPServerRequest(
            method: "POST", path: "/messages", headers: ["content-type": "application/json"],
            body: Array(#"{"to_number":"+15555550100","message":"hi",}"#.utf8))
        XCTAssertThrowsError(try request.jsonObject()) { error in
            guard let problem = error as? Problem else { return XCTFail("threw \(error)") }
            XCTAssertEqual(problem.code, .malformedJSON)
            XCTAssertEqual(problem.code.status, 400)
            XCTAssertTrue(problem.detail.contains("trailing comma in object at byte 43"), problem.detail)
        }
    }

    func testDuplicateKeyBodyIsAnswered400NamingTheKey() {
        let request = HTTPServerRequest(
            method: "POST", path: "/messages", headers: ["content-type": "application/json"],
            body: Array(#"{"to_number":"+15555550100","message":"hi","to_number":"+15555550199"}"#.utf8))
        XCTAssertThrowsError(try request.jsonObject()) { error in
            guard let problem = error as? Problem else { return XCTFail("threw \(error)") }
            XCTAssertEqual(problem.code, .malformedJSON)
            XCTAssertTrue(problem.detail.contains("duplicate key `to_number`"), problem.detail)
        }
    }
}
