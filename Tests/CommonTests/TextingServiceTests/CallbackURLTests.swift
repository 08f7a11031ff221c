import TextingDomain
import TextingFastCGI
import XCTest

/// A signed callback query as it comes back through the FastCGI request's query parsing.
final class CallbackURLTests: XCTestCase {
    private let messageID = "3f2504e0-4f89-41d3-9a0c-0305e82c3301"
    private let issuedAt = 1_700_000_000
    private let signer = CallbackSigner(secret: "0123456789abcdef0123456789abcdef-callback", maximumAgeSeconds: 3600)

    private func parameters(_ query: String) -> [String: String] {
        HTTPServerRequest(method: "POST", path: "/messages/delivery_status", queryString: query).queryParameters
    }

    func testSignedQueryInsideCallbackURLSurvivesQueryParsing() {
        // The provider calls back with the query exactly as given, possibly with parameters of its own appended.
        let query = signer.signedQuery(messageID: messageID, issuedAt: issuedAt) + "&provider=p1"
        XCTAssertEqual(signer.verify(parameters: parameters(query), now: issuedAt + 60)?.messageID, messageID)
    }

    func testDuplicatedParameterAppendedByAttackerDoesNotOverrideSignedValue() {
        // A repeated name keeps the first value, so an appended mid= cannot redirect the callback.
        let query = signer.signedQuery(messageID: messageID, issuedAt: issuedAt) + "&mid=00000000-0000-0000-0000-000000000000"
        XCTAssertEqual(signer.verify(parameters: parameters(query), now: issuedAt)?.messageID, messageID)
    }
}
