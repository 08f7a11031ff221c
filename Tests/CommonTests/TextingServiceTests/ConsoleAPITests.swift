import FoundationEssentials
import TextingDomain
import TextingFastCGI
import TextingPostgres
import TextingStore
import XCTest

@testable import TextingService

/// The console's answers that need no database: refusals before any session is looked up,
/// the headers every page carries, escaping, the cookie and the same-origin check.
final class ConsoleAPITests: XCTestCase {
    private let console = ConsoleAPI(providers: [], defaultCountryCode: "1")
    /// Never connected: these requests must be answered before any query.
    private let nowhere = PostgresConnection(conninfo: "host=/nonexistent-texting-test-socket-dir connect_timeout=2")

    private func header(_ response: HTTPServerResponse, _ name: String) -> String? {
        response.headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }

    func testAPageWithoutASessionLeadsToSignInAndAnActionIsRefused() throws {
        let page = try console.handle(HTTPServerRequest(method: "GET", path: "/admin/failed"), connection: nowhere)
        XCTAssertEqual(page.status, 303)
        XCTAssertEqual(header(page, "Location"), "/admin/login")
        let action = try console.handle(
            HTTPServerRequest(
                method: "POST", path: "/admin/keys/revoke", headers: ["content-type": "application/x-www-form-urlencoded"],
                body: Array("id=x&csrf_token=y".utf8)),
            connection: nowhere)
        XCTAssertEqual(action.status, 403)
    }

    func testEveryPageForbidsScriptsFramingAndCaching() throws {
        let login = try console.handle(HTTPServerRequest(method: "GET", path: "/admin/login"), connection: nowhere)
        XCTAssertEqual(login.status, 200)
        let policy = try XCTUnwrap(header(login, "Content-Security-Policy"))
        XCTAssertTrue(policy.hasPrefix("default-src 'none'; style-src 'self'"))
        XCTAssertFalse(policy.contains("script-src"))
        XCTAssertFalse(policy.contains("unsafe-inline"))
        XCTAssertEqual(header(login, "X-Frame-Options"), "DENY")
        XCTAssertEqual(header(login, "Cache-Control"), "no-store")
        let html = String(decoding: login.body, as: UTF8.self)
        XCTAssertTrue(html.contains("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"))
        XCTAssertFalse(html.contains("<script"))
        XCTAssertFalse(html.contains("style="))
    }

    func testAFormFromAnotherSiteIsRefusedBeforeTheTokenIsChecked() throws {
        let forged = try console.handle(
            HTTPServerRequest(
                method: "POST", path: "/admin/login",
                headers: ["content-type": "application/x-www-form-urlencoded", "origin": "https://evil.example", "host": "sms.example.com"],
                body: Array("token=txo_x".utf8)),
            connection: nowhere)
        XCTAssertEqual(forged.status, 403)
        let same = HTTPServerRequest(method: "POST", path: "/admin/login", headers: ["origin": "https://sms.example.com", "host": "sms.example.com"])
        XCTAssertTrue(ConsoleAPI.sameOrigin(same))
        XCTAssertTrue(ConsoleAPI.sameOrigin(HTTPServerRequest(method: "POST", path: "/admin/login")))
        // nginx passes `$host` (no port) as the Host header; the browser's Origin has the port.
        XCTAssertTrue(
            ConsoleAPI.sameOrigin(HTTPServerRequest(method: "POST", path: "/admin/login", headers: ["origin": "http://127.0.0.1:18180", "host": "127.0.0.1"])))
        XCTAssertTrue(
            ConsoleAPI.sameOrigin(HTTPServerRequest(method: "POST", path: "/admin/login", headers: ["origin": "http://[::1]:8080", "host": "[::1]"])))
        XCTAssertFalse(ConsoleAPI.sameOrigin(HTTPServerRequest(method: "POST", path: "/admin/login", headers: ["origin": "null", "host": "a"])))
        XCTAssertFalse(
            ConsoleAPI.sameOrigin(
                HTTPServerRequest(method: "POST", path: "/admin/login", headers: ["origin": "https://sms.example.com.evil", "host": "sms.example.com"])))
    }

    func testTheSessionCookieIsHttpOnlySecureStrictAndExpires() {
        let cookie = ConsoleCookie.set("abc")
        for attribute in ["texting_admin=abc", "Path=/admin", "Max-Age=28800", "HttpOnly", "Secure", "SameSite=Strict"] {
            XCTAssertTrue(cookie.contains(attribute), attribute)
        }
        XCTAssertTrue(ConsoleCookie.clear.contains("Max-Age=0"))
        XCTAssertEqual(ConsoleCookie.token(in: "a=1; texting_admin=tok; b=2"), "tok")
        XCTAssertEqual(ConsoleCookie.token(in: "texting_admin_x=1;texting_admin=t2"), "t2")
        XCTAssertNil(ConsoleCookie.token(in: "texting_admin="))
        XCTAssertNil(ConsoleCookie.token(in: nil))
    }

    func testTablesAndFormsEscapeWhatTheyShow() {
        let table = htmlTable(["body"], [["<img src=x onerror=alert(1)>"]])
        XCTAssertTrue(table.contains("&lt;img src=x onerror=alert(1)&gt;"))
        XCTAssertFalse(table.contains("<img"))
        let form = ConsoleAPI.form("/admin/x", ["id": "\"><script>"], csrf: "t\"", button: "<b>")
        XCTAssertFalse(form.contains("<script>"))
        XCTAssertTrue(form.contains("value=\"&quot;&gt;&lt;script&gt;\""))
        XCTAssertTrue(form.contains("&lt;b&gt;"))
    }

    func testTheChartIsPlainSVGWithoutStyleAttributes() {
        var minutes = (0..<60).reversed().map { ConsoleStore.Minute(minutesAgo: $0) }
        minutes[59].sent = 4
        minutes[58].failed = 2
        let svg = ThroughputChart.svg(minutes)
        XCTAssertTrue(svg.hasPrefix("<svg xmlns=\"http://www.w3.org/2000/svg\""))
        XCTAssertFalse(svg.contains("style="))
        XCTAssertTrue(svg.contains("sent 4"))
        XCTAssertTrue(svg.contains("failed 2"))
        XCTAssertTrue(svg.contains("peak 4"))
    }

    func testASearchIsReadBeforeAnythingIsLookedUp() throws {
        let id = "01a242be-1965-7000-b670-d2dd236e86e4"
        XCTAssertEqual(console.search(["q": id]).0, .id(try XCTUnwrap(UUID(uuidString: id))))
        XCTAssertEqual(console.search(["q": " 555-555-0100 ", "by": "number"]).0, .number(try PhoneNumber(parsing: "+15555550100", defaultCountryCode: "1")))
        XCTAssertEqual(console.search(["q": "order-1042", "by": "client_ref"]).0, .clientRef("order-1042"))
        XCTAssertEqual(console.search(["q": "failed", "by": "status"]).0, .status(.failed))
        XCTAssertNotNil(console.search(["q": "x", "by": "status"]).refusal)
        XCTAssertNotNil(console.search(["q": "x", "by": "id"]).refusal)
        XCTAssertNotNil(console.search(["q": "12", "by": "number"]).refusal)
        XCTAssertNotNil(console.search(["q": "x", "by": "body"]).refusal)
        XCTAssertNil(console.search(["q": "  "]).0)
        XCTAssertNil(console.search(["q": "  "]).refusal)
    }
}
