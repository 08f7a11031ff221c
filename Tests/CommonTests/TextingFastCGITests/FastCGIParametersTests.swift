import TextingFastCGI
import XCTest

final class FastCGIParametersTests: XCTestCase {
    /// What nginx sends for `POST /messages?x=1` with a JSON body (fastcgi_params plus ours).
    private let nginx: [String: String] = [
        "QUERY_STRING": "x=1", "REQUEST_METHOD": "POST", "CONTENT_TYPE": "application/json", "CONTENT_LENGTH": "12",
        "SCRIPT_NAME": "/messages", "REQUEST_URI": "/messages?x=1", "DOCUMENT_URI": "/messages",
        "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "127.0.0.1", "REQUEST_ID": "0f1e2d3c4b5a69788796a5b4c3d2e1f0",
        "HTTP_AUTHORIZATION": "Bearer txk_abc", "HTTP_IDEMPOTENCY_KEY": "key-1", "HTTP_CONTENT_TYPE": "application/json",
    ]

    private func entries(_ parameters: [String: String], replacing: [String: [UInt8]] = [:], adding: [[UInt8]] = []) -> [[UInt8]] {
        var result = parameters.filter { replacing[$0.key] == nil }.map { Array("\($0.key)=\($0.value)".utf8) }
        for (name, value) in replacing { result.append(Array("\(name)=".utf8) + value) }
        return result + adding
    }

    private func parse(_ entries: [[UInt8]], maximumBodyBytes: Int = 16 * 1024) throws(Problem) -> FastCGIParameters {
        try FastCGIParameters(entries, maximumBodyBytes: maximumBodyBytes)
    }

    private func assertRefused(
        _ entries: [[UInt8]], _ code: ProblemCode = .badRequest, mentioning: String? = nil,
        file: StaticString = #filePath, line: UInt = #line
    ) {
        do {
            let parameters = try parse(entries)
            XCTFail("accepted: \(parameters)", file: file, line: line)
        } catch {
            XCTAssertEqual(error.code, code, error.detail, file: file, line: line)
            XCTAssertEqual(error.code.status, code == .badRequest ? 400 : error.code.status, file: file, line: line)
            if let mentioning { XCTAssertTrue(error.detail.contains(mentioning), error.detail, file: file, line: line) }
        }
    }

    private func refusedWith(_ name: String, _ value: String) -> [[UInt8]] { entries(nginx, replacing: [name: Array(value.utf8)]) }

    func testABodyIsLimitedByItsPath() throws {
        let limits = BodyLimits(standard: 16 * 1024, larger: ["/messages/batch": 1024 * 1024])
        let large = refusedWith("CONTENT_LENGTH", String(1024 * 1024))
        XCTAssertThrowsError(try FastCGIParameters(large, bodyLimits: limits)) { error in
            XCTAssertEqual((error as? Problem)?.code, .payloadTooLarge)
        }
        var batch = nginx
        batch["DOCUMENT_URI"] = "/messages/batch"
        batch["CONTENT_LENGTH"] = String(1024 * 1024)
        XCTAssertEqual(try FastCGIParameters(entries(batch), bodyLimits: limits).contentLength, 1024 * 1024)
        batch["CONTENT_LENGTH"] = String(1024 * 1024 + 1)
        XCTAssertThrowsError(try FastCGIParameters(entries(batch), bodyLimits: limits)) { error in
            XCTAssertEqual((error as? Problem)?.code, .payloadTooLarge)
        }
        // The path is the document's, not a prefix of it.
        batch["DOCUMENT_URI"] = "/messages/batch/x"
        batch["CONTENT_LENGTH"] = "16385"
        XCTAssertThrowsError(try FastCGIParameters(entries(batch), bodyLimits: limits))
    }

    func testWhatNginxSendsBecomesTheRequest() throws {
        let parameters = try parse(entries(nginx))
        XCTAssertEqual(parameters.method, "POST")
        XCTAssertEqual(parameters.path, "/messages")
        XCTAssertEqual(parameters.queryString, "x=1")
        XCTAssertEqual(parameters.contentLength, 12)
        XCTAssertEqual(parameters.requestID, "0f1e2d3c4b5a69788796a5b4c3d2e1f0")
        XCTAssertEqual(parameters.headers, ["authorization": "Bearer txk_abc", "idempotency-key": "key-1", "content-type": "application/json"])
        let request = parameters.request(body: Array("{\"a\":\"bcde\"}".utf8))
        XCTAssertEqual(request.header("Idempotency-Key"), "key-1")
        XCTAssertEqual(request.body.count, 12)
    }

    func testGetWithEmptyContentLengthAndTypeHasNoBody() throws {
        // nginx's fastcgi_params sends both, empty, for a request without a body.
        var get = nginx
        get["REQUEST_METHOD"] = "GET"
        get["CONTENT_LENGTH"] = ""
        get["CONTENT_TYPE"] = ""
        get["HTTP_CONTENT_TYPE"] = nil
        let parameters = try parse(entries(get))
        XCTAssertEqual(parameters.contentLength, 0)
        XCTAssertNil(parameters.headers["content-type"])
    }

    func testNegativeContentLengthIsRefused() {
        assertRefused(refusedWith("CONTENT_LENGTH", "-1"), mentioning: "CONTENT_LENGTH")
    }

    func testContentLengthMustBePlainDigits() {
        for value in ["+5", " 5", "5 ", "0x10", "1e3", "5,0", "five", "12\t", "١٢", "-0"] {
            assertRefused(refusedWith("CONTENT_LENGTH", value), mentioning: "CONTENT_LENGTH")
        }
    }

    func testAbsurdContentLengthIsRefusedWithoutOverflow() {
        assertRefused(refusedWith("CONTENT_LENGTH", "99999999999999999999999999"), mentioning: "CONTENT_LENGTH")
        assertRefused(refusedWith("CONTENT_LENGTH", String(repeating: "9", count: 19)), mentioning: "CONTENT_LENGTH")
    }

    func testContentLengthOverTheLimitIsPayloadTooLarge() {
        assertRefused(refusedWith("CONTENT_LENGTH", "16385"), .payloadTooLarge)
        assertRefused(refusedWith("CONTENT_LENGTH", "999999999999999999"), .payloadTooLarge)
    }

    func testContentLengthWithLeadingZerosOrAtTheLimitIsAccepted() throws {
        XCTAssertEqual(try parse(refusedWith("CONTENT_LENGTH", "0012")).contentLength, 12)
        XCTAssertEqual(try parse(refusedWith("CONTENT_LENGTH", "16384")).contentLength, 16384)
        XCTAssertEqual(try parse(refusedWith("CONTENT_LENGTH", "0")).contentLength, 0)
    }

    func testMethodMustBeAnHTTPToken() {
        for value in ["", "GE T", "GET\r\n", "GET/", "G(ET)", "ÉCRIRE", String(repeating: "A", count: 33)] {
            assertRefused(refusedWith("REQUEST_METHOD", value), mentioning: "REQUEST_METHOD")
        }
        assertRefused(entries(nginx.filter { $0.key != "REQUEST_METHOD" }), mentioning: "REQUEST_METHOD")
    }

    func testUnusualButValidMethodsReachTheRouter() throws {
        XCTAssertEqual(try parse(refusedWith("REQUEST_METHOD", "PROPFIND")).method, "PROPFIND")
        XCTAssertEqual(try parse(refusedWith("REQUEST_METHOD", "M-SEARCH")).method, "M-SEARCH")
    }

    func testPathMustStartWithSlashAndHoldNoControlCharacters() {
        for name in ["DOCUMENT_URI", "SCRIPT_NAME"] {
            for value in ["", "messages", "*", "/messages\n", "/a\u{7F}b", "/a\u{1B}[31m"] {
                assertRefused(refusedWith(name, value), mentioning: name)
            }
            assertRefused(refusedWith(name, "/" + String(repeating: "a", count: FastCGIParameters.maximumValueBytes)), mentioning: name)
        }
        assertRefused(entries(nginx.filter { $0.key != "DOCUMENT_URI" && $0.key != "SCRIPT_NAME" }), mentioning: "DOCUMENT_URI")
    }

    func testScriptNameIsThePathWithoutDocumentURI() throws {
        XCTAssertEqual(try parse(entries(nginx.filter { $0.key != "DOCUMENT_URI" })).path, "/messages")
    }

    func testPathInUnicodeIsAccepted() throws {
        XCTAssertEqual(try parse(refusedWith("DOCUMENT_URI", "/messages/é😀")).path, "/messages/é😀")
    }

    func testInvalidUTF8IsRefusedNotRepaired() {
        let invalid: [[UInt8]] = [[0xFF], [0xC3], [0xC0, 0x80], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80]]
        for bytes in invalid {
            for name in ["DOCUMENT_URI", "QUERY_STRING", "HTTP_IDEMPOTENCY_KEY", "CONTENT_TYPE"] {
                let value = (name == "DOCUMENT_URI" ? Array("/m".utf8) : Array("k".utf8)) + bytes
                assertRefused(entries(nginx, replacing: [name: value]), mentioning: "UTF-8")
            }
        }
    }

    func testTwoInvalidIdempotencyKeysCannotBecomeTheSameKey() {
        // String(cString:) would make both `k\u{FFFD}`.
        assertRefused(entries(nginx, replacing: ["HTTP_IDEMPOTENCY_KEY": [0x6B, 0xFE]]))
        assertRefused(entries(nginx, replacing: ["HTTP_IDEMPOTENCY_KEY": [0x6B, 0xFF]]))
    }

    func testQueryStringWithControlCharactersOrTooLongIsRefused() {
        assertRefused(refusedWith("QUERY_STRING", "a=1\r\nb=2"), mentioning: "QUERY_STRING")
        assertRefused(refusedWith("QUERY_STRING", String(repeating: "a", count: FastCGIParameters.maximumValueBytes + 1)), mentioning: "QUERY_STRING")
        XCTAssertNoThrow(try parse(refusedWith("QUERY_STRING", String(repeating: "a", count: FastCGIParameters.maximumValueBytes))))
    }

    func testHeaderValuesTheHandlersReadMayHoldTabsButNoOtherControlCharacters() throws {
        XCTAssertEqual(try parse(refusedWith("HTTP_IDEMPOTENCY_KEY", "a\tb")).headers["idempotency-key"], "a\tb")
        for value in ["a\rb", "a\nb", "a\u{0}b", "a\u{7F}"] {
            assertRefused(refusedWith("HTTP_IDEMPOTENCY_KEY", value), mentioning: "idempotency-key")
            assertRefused(refusedWith("HTTP_AUTHORIZATION", value), mentioning: "authorization")
        }
        assertRefused(refusedWith("HTTP_AUTHORIZATION", String(repeating: "a", count: FastCGIParameters.maximumValueBytes + 1)))
    }

    func testAHeaderNoHandlerReadsIsDroppedWhenItsValueIsBad() throws {
        // A provider's Latin-1 User-Agent must not cost it its delivery report.
        XCTAssertEqual(try parse(refusedWith("HTTP_USER_AGENT", "a\tb")).headers["user-agent"], "a\tb")
        for value in ["a\rb", "a\u{0}b", String(repeating: "a", count: FastCGIParameters.maximumValueBytes + 1)] {
            XCTAssertNil(try parse(refusedWith("HTTP_USER_AGENT", value)).headers["user-agent"])
        }
        XCTAssertNil(try parse(entries(nginx, replacing: ["HTTP_USER_AGENT": [0x63, 0x61, 0x66, 0xE9]])).headers["user-agent"])
    }

    func testOddHeaderNamesAreRefused() {
        for name in ["HTTP_", "HTTP_x_lower", "HTTP_X-DASH", "HTTP_X Y", "HTTP_É", "HTTP_" + String(repeating: "A", count: 257)] {
            assertRefused(entries(nginx, adding: [Array("\(name)=v".utf8)]), mentioning: "HTTP_")
        }
        assertRefused(entries(nginx, adding: [[0x48, 0x54, 0x54, 0x50, 0x5F, 0xFF, 0x3D, 0x76]]), mentioning: "HTTP_")
    }

    func testHeaderNamesBecomeLowercaseWithDashes() throws {
        XCTAssertEqual(try parse(entries(nginx, adding: [Array("HTTP_X_REQUEST_2=v".utf8)])).headers["x-request-2"], "v")
    }

    func testRequestIDMustBeShortVisibleASCII() {
        for value in ["", "a b", "id\n", "é", String(repeating: "a", count: FastCGIParameters.maximumRequestIDBytes + 1)] {
            assertRefused(refusedWith("REQUEST_ID", value), mentioning: "REQUEST_ID")
        }
    }

    func testRefusedRequestQuotesOnlyAValidRequestID() {
        XCTAssertEqual(FastCGIParameters.requestID(in: refusedWith("CONTENT_LENGTH", "-1")), "0f1e2d3c4b5a69788796a5b4c3d2e1f0")
        XCTAssertNil(FastCGIParameters.requestID(in: refusedWith("REQUEST_ID", "a\nb")))
        XCTAssertNil(FastCGIParameters.requestID(in: []))
    }

    func testTooManyParametersAreRefused() {
        let many = (0..<FastCGIParameters.maximumParameterCount).map { Array("HTTP_X_\($0)=v".utf8) }
        assertRefused(entries(nginx, adding: many), mentioning: "parameters")
    }

    func testRepeatedParameterWithTwoValuesIsRefusedAndWithOneIsNot() throws {
        // nginx sends DOCUMENT_URI twice (fastcgi_params and our own line), with one value.
        XCTAssertEqual(try parse(entries(nginx, adding: [Array("DOCUMENT_URI=/messages".utf8)])).path, "/messages")
        assertRefused(entries(nginx, adding: [Array("CONTENT_LENGTH=0".utf8)]), mentioning: "twice")
        assertRefused(entries(nginx, adding: [Array("DOCUMENT_URI=/healthz".utf8)]), mentioning: "twice")
    }

    func testRepeatedHeaderKeepsTheLast() throws {
        let parameters = try parse(entries(nginx, adding: [Array("HTTP_X_A=1".utf8), Array("HTTP_X_A=2".utf8)]))
        XCTAssertEqual(parameters.headers["x-a"], "2")
    }

    func testParametersWeDoNotReadAreNotChecked() throws {
        XCTAssertNoThrow(try parse(entries(nginx, adding: [[0x53, 0x45, 0x52, 0x56, 0x45, 0x52, 0x3D, 0xFF, 0x01], Array("noequals".utf8)])))
    }

    func testTruncatedBodyProblemIsABadRequestSayingHowMuchArrived() {
        let problem = FastCGIParameters.truncatedBody(received: 3, declared: 12)
        XCTAssertEqual(problem.code.status, 400)
        XCTAssertTrue(problem.detail.contains("3 of the 12"), problem.detail)
    }

    func testRefusalIsAProblemDocumentWithTheBadRequestCode() throws {
        do {
            _ = try parse(refusedWith("CONTENT_LENGTH", "-1"))
            XCTFail("accepted")
        } catch {
            let response = HTTPServerResponse.problem(error, requestID: "r1")
            XCTAssertEqual(response.status, 400)
            let text = String(decoding: response.body, as: UTF8.self)
            XCTAssertTrue(text.contains("\"code\":\"bad_request\""), text)
            XCTAssertTrue(text.contains("\"request_id\":\"r1\""), text)
        }
    }
}
