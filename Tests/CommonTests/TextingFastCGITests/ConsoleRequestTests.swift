import TextingFastCGI
import XCTest

/// What the operator console reads of a request: the client's address and HTML form fields.
final class ConsoleRequestTests: XCTestCase {
    private func parameters(_ values: [String: String]) throws -> FastCGIParameters {
        let base = ["REQUEST_METHOD": "POST", "DOCUMENT_URI": "/admin/login"]
        return try FastCGIParameters(base.merging(values) { $1 }.map { Array("\($0.key)=\($0.value)".utf8) }, maximumBodyBytes: 16 * 1024)
    }

    func testTheClientsAddressComesFromRemoteAddr() throws {
        XCTAssertEqual(try parameters(["REMOTE_ADDR": "127.0.0.1"]).request(body: []).remoteAddress, "127.0.0.1")
        XCTAssertEqual(try parameters(["REMOTE_ADDR": "2001:db8::1"]).request(body: []).remoteAddress, "2001:db8::1")
        XCTAssertNil(try parameters([:]).request(body: []).remoteAddress)
        XCTAssertNil(try parameters(["REMOTE_ADDR": "127.0.0.1<script>"]).request(body: []).remoteAddress)
    }

    func testFormFieldsAreDecodedOnlyFromAForm() {
        let form = HTTPServerRequest(
            method: "POST", path: "/admin/login", headers: ["content-type": "application/x-www-form-urlencoded"],
            body: Array("csrf_token=a%2Bb&token=txo_x+y&token=second&bad=%ZZ".utf8))
        XCTAssertEqual(form.formParameters, ["csrf_token": "a+b", "token": "txo_x y"])
        let json = HTTPServerRequest(
            method: "POST", path: "/admin/login", headers: ["content-type": "application/json"], body: Array("token=x".utf8))
        XCTAssertEqual(json.formParameters, [:])
        let notUTF8 = HTTPServerRequest(
            method: "POST", path: "/admin/login", headers: ["content-type": "application/x-www-form-urlencoded; charset=utf-8"], body: [0xFF, 0x3D])
        XCTAssertEqual(notUTF8.formParameters, [:])
    }
}
