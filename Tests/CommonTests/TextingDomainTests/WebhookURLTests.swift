import TextingDomain
import TextingSupport
import XCTest

final class WebhookURLTests: XCTestCase {
    let production = WebhookURLRules()
    let development = WebhookURLRules(allowHTTP: true, destinations: NetworkDestinationRules(allowLoopback: true, allowPrivate: true))

    private func refused(_ text: String, _ rules: WebhookURLRules, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try WebhookURL(validating: text, rules: rules, field: "url"), text, file: file, line: line) { error in
            XCTAssertEqual((error as? ValidationError)?.code, .invalidWebhookURL, file: file, line: line)
            XCTAssertEqual((error as? ValidationError)?.field, "url", file: file, line: line)
        }
    }

    func testPublicHTTPSURLsAreKeptAsGiven() throws {
        for text in ["https://hooks.example.com/texting", "HTTPS://Hooks.Example.com:8443/a?b=c", "https://[2606:4700::1111]/x", "https://8.8.8.8/"] {
            XCTAssertEqual(try WebhookURL(validating: text, rules: production, field: "url").text, text)
        }
    }

    func testHTTPOnlyWhereAllowed() {
        refused("http://hooks.example.com/", production)
        XCTAssertNoThrow(try WebhookURL(validating: "http://127.0.0.1:9000/hooks", rules: development, field: "url"))
    }

    func testForbiddenDestinationsAndMalformedURLsAreRefused() {
        for text in ["https://127.0.0.1/", "https://localhost:8080/", "https://10.0.0.5/", "https://[::1]/", "https://2130706433/"] {
            refused(text, production)
        }
        for text in [
            "https://169.254.169.254/latest/meta-data/", "https://[fe80::1]/", "https://0.0.0.0/", "ftp://example.com/", "example.com",
            "https://user:pw@example.com/", "https://example.com/#x", "https:///path", "https://example.com:0/", "https://example.com:65536/",
            "https://exa mple.com/", "https://[::1/", "https://ex\u{00E4}mple.com/", "", "https://" + String(repeating: "a", count: 2050),
        ] {
            refused(text, development)
        }
    }
}
