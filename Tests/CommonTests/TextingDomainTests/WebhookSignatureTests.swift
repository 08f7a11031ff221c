import TextingDomain
import TextingSupport
import XCTest

final class WebhookSignatureTests: XCTestCase {
    /// The Standard Webhooks specification's own example (also in its reference libraries'
    /// tests): this secret, id, timestamp and payload sign to exactly this.
    func testSignsAsTheStandardWebhooksReferenceDoes() throws {
        let secret = try XCTUnwrap(WebhookSecret(text: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"))
        let headers = WebhookSignature.headers(
            eventID: "msg_p5jXN8AQM9LWM0D4loKWxJek", timestamp: 1_614_265_330, body: Array(#"{"test": 2432232314}"#.utf8), secrets: [secret])
        XCTAssertEqual(headers.map(\.name), ["webhook-id", "webhook-timestamp", "webhook-signature"])
        XCTAssertEqual(headers[0].value, "msg_p5jXN8AQM9LWM0D4loKWxJek")
        XCTAssertEqual(headers[1].value, "1614265330")
        XCTAssertEqual(headers[2].value, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
    }

    func testEverySecretSignsDuringARotation() {
        let old = WebhookSecret.generate()
        let new = WebhookSecret.generate()
        let signatures = WebhookSignature.headers(eventID: "e", timestamp: 1, body: [], secrets: [new, old])[2].value.split(separator: " ")
        XCTAssertEqual(signatures.count, 2)
        XCTAssertTrue(signatures.allSatisfy { $0.hasPrefix("v1,") })
        XCTAssertNotEqual(signatures[0], signatures[1])
    }

    func testSecretsRoundTripAndAreRandom() throws {
        let secret = WebhookSecret.generate()
        XCTAssertEqual(secret.bytes.count, 32)
        XCTAssertTrue(secret.text.hasPrefix("whsec_"))
        XCTAssertEqual(WebhookSecret(text: secret.text), secret)
        XCTAssertEqual(WebhookSecret(text: secret.stored), secret)
        XCTAssertNotEqual(WebhookSecret.generate(), secret)
        XCTAssertNil(WebhookSecret(text: "whsec_short"))
        XCTAssertNil(WebhookSecret(text: "whsec_not base64!"))
    }

    func testStandardBase64RoundTrips() {
        for length in 0..<40 {
            let bytes = (0..<length).map { UInt8(($0 * 37 + 11) & 0xFF) }
            XCTAssertEqual(Base64.decode(Base64.encode(bytes)), bytes)
            XCTAssertEqual(Base64.encode(bytes).utf8.count % 4, 0)
        }
        XCTAssertEqual(Base64.encode(Array("foobar".utf8)), "Zm9vYmFy")
        XCTAssertEqual(Base64.encode(Array("fo".utf8)), "Zm8=")
        XCTAssertNil(Base64.decode("Zm8"))
        XCTAssertNil(Base64.decode("Zm-="))
    }
}
