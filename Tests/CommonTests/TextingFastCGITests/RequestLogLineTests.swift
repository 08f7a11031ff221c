import TextingFastCGI
import XCTest

final class RequestLogLineTests: XCTestCase {
    func testLineHasRequestIDMethodPathStatusAndDuration() {
        let line = RequestLogLine(requestID: "9f6061ccb1d49d43a13ed6a58a2ded38", method: "POST", path: "/messages", status: 201, milliseconds: 1.23456)
        XCTAssertEqual(line.text, "request_id=9f6061ccb1d49d43a13ed6a58a2ded38 method=POST path=/messages status=201 duration_ms=1.235")
    }

    func testMissingOrHostileRequestIDAndMethodCannotBreakTheLine() {
        XCTAssertTrue(
            RequestLogLine(requestID: nil, method: "", path: "/", status: 404, milliseconds: 0).text
                .hasPrefix("request_id=- method=- path=/ status=404"))
        let text = RequestLogLine(requestID: "abc def\nforged=1", method: "GE T\n", path: "/healthz", status: 200, milliseconds: -1).text
        XCTAssertFalse(text.contains("\n"))
        XCTAssertTrue(text.hasPrefix("request_id=abcdefforged1 method=GET path=/healthz status=200 duration_ms=0"), text)
    }

    func testRoutesAndMessageIDsAreLoggedAsTheyAre() {
        for path in [
            "/messages", "/messages/delivery_status", "/healthz", "/metrics", "/_mock/stats", "/send",
            "/messages/4b6d1f0e-6a43-4c07-9d0b-2f1f5b0b8f7e", "/messages/4B6D1F0E-6A43-4C07-9D0B-2F1F5B0B8F7E/cancel",
        ] {
            XCTAssertEqual(RequestLogLine.redactedPath(path), path)
        }
        XCTAssertEqual(RequestLogLine.redactedPath(""), "/")
        XCTAssertEqual(RequestLogLine.redactedPath("//messages//"), "/messages")
    }

    func testAnythingThatCouldBeAPhoneNumberIsMasked() {
        XCTAssertEqual(RequestLogLine.redactedPath("/messages/+15555550100"), "/messages/*")
        XCTAssertEqual(RequestLogLine.redactedPath("/messages/15555550100/cancel"), "/messages/*/cancel")
        XCTAssertEqual(RequestLogLine.redactedPath("/messages/(555) 555-0100"), "/messages/*")
        XCTAssertEqual(RequestLogLine.redactedPath("/messages/4b6d1f0e-6a43-4c07-9d0b-2f1f5b0b8f7"), "/messages/*")  // 35 characters
        XCTAssertEqual(RequestLogLine.redactedPath("/messages/hello world"), "/messages/*")
        XCTAssertEqual(RequestLogLine.redactedPath("/x/" + String(repeating: "a", count: 41)), "/x/*")
        XCTAssertEqual(RequestLogLine.redactedPath("/a/b/c/d/e/f/g/h/i/j"), "/a/b/c/d/e/f/g/h/…")
        XCTAssertEqual(RequestLogLine.redactedPath("/a/b/c/d/e/f/g/h"), "/a/b/c/d/e/f/g/h")
        XCTAssertEqual(RequestLogLine.redactedPath("/messages/café/cancel"), "/messages/*/cancel")  // not ASCII
        XCTAssertEqual(RequestLogLine.redactedPath("/messages/4b6d1f0e-6a43-4c07-9d0b-2f1f5b0b8f7g"), "/messages/*")  // g: no hex digit
        XCTAssertEqual(RequestLogLine.redactedPath("/x/" + String(repeating: "a", count: 40)), "/x/" + String(repeating: "a", count: 40))
    }

    func testRequestIDAndMethodKeepTheirAllowedCharactersAmongTheFirstOnes() {
        // The limits count characters, not bytes: 70 two-byte letters leave nothing of the id.
        let accented = RequestLogLine(requestID: String(repeating: "é", count: 70) + "abc", method: "GÉT", path: "/", status: 200, milliseconds: 1)
        XCTAssertTrue(accented.text.hasPrefix("request_id=- method=GT path=/ status=200"), accented.text)
        let long = RequestLogLine(
            requestID: String(repeating: "a", count: 70), method: String(repeating: "P", count: 20), path: "/", status: 200, milliseconds: 1)
        XCTAssertTrue(long.text.hasPrefix("request_id=\(String(repeating: "a", count: 64)) method=\(String(repeating: "P", count: 16)) "), long.text)
    }
}
