import TextingHTTPClient
import TextingSupport
import TextingTesting
import XCTest

/// Requests to client-chosen URLs: the address connected to is checked when the connection
/// is opened, so a refused one is never even connected to.
final class DestinationRulesTransferTests: XCTestCase {
    func testARefusedAddressIsNeverConnectedTo() throws {
        let server = try TestHTTPServer()
        defer { server.stop() }
        let client = try HTTPClient()
        let result = client.performAll([HTTPRequest(url: server.url("/hook"), destinationRules: NetworkDestinationRules())])[0]
        XCTAssertEqual(result, .failure(.destinationRefused("loopback address 127.0.0.1")))
        XCTAssertEqual(server.acceptedConnectionCount, 0)
    }

    func testAHostNameIsJudgedByTheAddressesItResolvesTo() throws {
        let server = try TestHTTPServer()
        defer { server.stop() }
        let client = try HTTPClient()
        let result = client.performAll([HTTPRequest(url: "http://localhost:\(server.port)/hook", destinationRules: NetworkDestinationRules())])[0]
        guard case .failure(.destinationRefused(let reason)) = result else { return XCTFail("\(result)") }
        XCTAssertTrue(reason.hasPrefix("loopback address"), reason)
        XCTAssertEqual(server.acceptedConnectionCount, 0)
    }

    func testAllowedAddressesAndRequestsWithoutRulesConnect() throws {
        let server = try TestHTTPServer()
        defer { server.stop() }
        let client = try HTTPClient()
        let allowed = HTTPRequest(url: server.url("/hook"), destinationRules: NetworkDestinationRules(allowLoopback: true))
        XCTAssertEqual(try client.performAll([allowed])[0].get().status, 200)
        XCTAssertEqual(try HTTPClient().performAll([HTTPRequest(url: server.url("/hook"))])[0].get().status, 200)
    }

    func testHTTPSOnlyRefusesAPlainHTTPURLBeforeConnecting() throws {
        let server = try TestHTTPServer()
        defer { server.stop() }
        let result = try HTTPClient().performAll([
            HTTPRequest(url: server.url("/hook"), destinationRules: NetworkDestinationRules(allowLoopback: true), requireHTTPS: true)
        ])[0]
        guard case .failure = result else { return XCTFail("an http URL must not be sent") }
        XCTAssertEqual(server.acceptedConnectionCount, 0)
    }

    func testATruncatedBodyKeepsItsStatusOnlyWhenAsked() throws {
        let server = try TestHTTPServer()
        defer { server.stop() }
        let big = [UInt8](repeating: 0x61, count: 10_000)
        let cut = HTTPRequest(url: server.url("/hook"), body: big, maximumResponseBytes: 2000, acceptsTruncatedBody: true)
        let response = try HTTPClient().performAll([cut])[0].get()
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(response.body.count, 2000)
        let strict = HTTPRequest(url: server.url("/hook"), body: big, maximumResponseBytes: 2000)
        XCTAssertEqual(try HTTPClient().performAll([strict])[0], .failure(.responseTooLarge(limit: 2000)))
    }
}
