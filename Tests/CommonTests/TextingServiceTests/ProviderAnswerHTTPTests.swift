import TextingDomain
import TextingHTTPClient
import TextingService
import XCTest

/// A transfer's result judged by the domain's rules (`ProviderAnswer+HTTP`).
final class ProviderAnswerHTTPTests: XCTestCase {
    private func assertTemporary(_ answer: ProviderAnswer, file: StaticString = #filePath, line: UInt = #line) {
        guard case .temporary(let reason, _) = answer else { return XCTFail("expected temporary, got \(answer)", file: file, line: line) }
        XCTAssertFalse(reason.isEmpty, file: file, line: line)
    }

    func testResponseTooLargeIsTemporary() {
        assertTemporary(ProviderAnswer(.failure(.responseTooLarge(limit: 65536))))
    }

    func testTimeoutIsTemporary() {
        assertTemporary(ProviderAnswer(.failure(.timedOut)))
    }

    func testConnectionFailureIsTemporary() {
        let answer = ProviderAnswer(.failure(.connectionFailed("Failed to connect to 127.0.0.1 port 9101")))
        assertTemporary(answer)
        guard case .temporary(let reason, _) = answer else { return }
        XCTAssertTrue(reason.contains("127.0.0.1"), reason)
    }

    func testSuccessfulTransferIsJudgedByItsResponse() {
        let response = HTTPResponse(status: 200, body: Array(#"{"message_id":"m-1"}"#.utf8))
        XCTAssertEqual(ProviderAnswer(.success(response)), .accepted(providerMessageID: "m-1"))
        XCTAssertEqual(ProviderAnswer(.success(HTTPResponse(status: 404))), ProviderAnswer(status: 404, retryAfter: nil, body: []))
    }
}
