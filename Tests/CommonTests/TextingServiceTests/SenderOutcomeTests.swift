import TextingDomain
import TextingHTTPClient
import TextingPostgres
import TextingSupport
import XCTest

// @testable: `Sender.outcome` and `Sender.InFlight` are the sender's internal rule, checked
// here with the clock and the random draw as arguments.
@testable import TextingService

/// `Sender.outcome`: what a provider's answer means for its job, a pure rule (the clock and
/// the backoff's random draw are arguments).
final class SenderOutcomeTests: XCTestCase {
    private let now: Int64 = 1_800_000_000_000

    private func configuration(maximumAttempts: Int = 6) throws -> SenderConfiguration {
        try SenderConfiguration(EnvironmentReader([
            "TEXTING_DATABASE_URL": "postgresql:///texting",
            "TEXTING_PROVIDERS": "p1=http://127.0.0.1:9101/send,p2=http://127.0.0.1:9102/send",
            "TEXTING_PUBLIC_BASE_URL": "https://sms.example.com",
            "TEXTING_CALLBACK_SECRET": String(repeating: "s", count: 40),
            "TEXTING_BACKOFF_BASE_MS": "1000", "TEXTING_BACKOFF_MAX_MS": "60000",
            "TEXTING_MAX_ATTEMPTS": String(maximumAttempts),
        ]))
    }

    private func sent(attempts: Int = 1, expiresAt: Int64? = nil, body: String = "Your code is 123456",
                      number: String = "+15555550123") throws -> Sender.InFlight {
        let job = ClaimedJob(messageID: 42, publicID: "3f2504e0-4f89-41d3-9a0c-0305e82c3301", toNumber: number, body: body, attempts: attempts,
                             generation: 0, lastProvider: nil, status: .sending, phoneNumberActive: true, expiresAtMilliseconds: expiresAt)
        return Sender.InFlight(job: job, provider: ProviderConfig(name: "p1", url: "http://127.0.0.1:9101/send", weight: 1))
    }

    private func outcome(_ answer: ProviderAnswer, _ inFlight: Sender.InFlight, maximumAttempts: Int = 6, random: Double = 0) throws -> JobOutcome {
        Sender.outcome(of: inFlight, answer: answer, configuration: try configuration(maximumAttempts: maximumAttempts), nowMilliseconds: now, random: random)
    }

    func testAcceptedIsSentUnderTheClaimsAttempt() throws {
        XCTAssertEqual(try outcome(.accepted(providerMessageID: "p1-7"), sent(attempts: 3)),
                       JobOutcome(messageID: 42, attempt: 3, .sent(provider: "p1", providerMessageID: "p1-7")))
        XCTAssertEqual(try outcome(.accepted(providerMessageID: nil), sent()),
                       JobOutcome(messageID: 42, attempt: 1, .sent(provider: "p1", providerMessageID: nil)))
    }

    func testPermanentFailsWithTheProvidersReason() throws {
        XCTAssertEqual(try outcome(.permanent(reason: "provider rejected the message (400): nope"), sent(attempts: 2)),
                       JobOutcome(messageID: 42, attempt: 2, .failed(attempts: 2, provider: "p1", code: "provider_rejected",
                                                                     detail: "provider rejected the message (400): nope")))
    }

    func testTemporaryRetriesAfterTheBackoffDrawnFromRandom() throws {
        // Attempt 2: ceiling 2000 ms; "equal jitter" gives 1000 + random × 1000.
        XCTAssertEqual(try outcome(.temporary(reason: "503", retryAfterMilliseconds: nil), sent(attempts: 2), random: 0).disposition,
                       .retry(provider: "p1", error: "503", delayMilliseconds: 1000))
        XCTAssertEqual(try outcome(.temporary(reason: "503", retryAfterMilliseconds: nil), sent(attempts: 2), random: 0.5).disposition,
                       .retry(provider: "p1", error: "503", delayMilliseconds: 1500))
    }

    func testRetryAfterLongerThanTheBackoffWins() throws {
        XCTAssertEqual(try outcome(.temporary(reason: "429", retryAfterMilliseconds: 30_000), sent(attempts: 1)).disposition,
                       .retry(provider: "p1", error: "429", delayMilliseconds: 30_000))
    }

    func testTemporaryOnTheLastAttemptFailsAsRetriesExhausted() throws {
        guard case .failed(let attempts, _, let code, let detail) = try outcome(.temporary(reason: "timed out", retryAfterMilliseconds: nil),
                                                                               sent(attempts: 3), maximumAttempts: 3).disposition else {
            return XCTFail()
        }
        XCTAssertEqual(attempts, 3)
        XCTAssertEqual(code, "retries_exhausted")
        XCTAssertTrue(detail.contains("timed out"), detail)
    }

    func testTemporaryWhoseNextAttemptIsPastTheValidityFailsAsExpired() throws {
        // The next attempt would come 500 ms from now at the earliest; the message expires in 400.
        guard case .failed(_, _, let code, _) = try outcome(.temporary(reason: "503", retryAfterMilliseconds: nil),
                                                          sent(attempts: 1, expiresAt: now + 400)).disposition else { return XCTFail() }
        XCTAssertEqual(code, "expired")
        XCTAssertEqual(try outcome(.temporary(reason: "503", retryAfterMilliseconds: nil), sent(attempts: 1, expiresAt: now + 60_000)).disposition,
                       .retry(provider: "p1", error: "503", delayMilliseconds: 500))
    }

    func testTheNumberAndTheTextAnEchoingProviderQuotesAreMasked() throws {
        let job = try sent(body: "Your code is 123456\nand \"quoted\"").job
        // Raw, JSON-escaped, and past the 200 bytes an excerpt keeps.
        let body = String(repeating: "-", count: 190) + #"{"error":"bad number +15555550123 / 15555550123 for 'Your code is 123456\nand \"quoted\"'"}"#
            + " then raw: Your code is 123456\nand \"quoted\""
        let answer = ProviderAnswer(.success(HTTPResponse(status: 400, body: Array(body.utf8))), masking: Sender.secrets(of: job))
        guard case .permanent(let reason) = answer else { return XCTFail() }
        XCTAssertFalse(reason.contains("5555550123"), reason)
        XCTAssertFalse(reason.contains("Your code"), reason)
        let whole = ProviderAnswer(.success(HTTPResponse(status: 400, body: Array(String(body.dropFirst(190)).utf8))), masking: Sender.secrets(of: job))
        guard case .permanent(let shown) = whole else { return XCTFail() }
        XCTAssertTrue(shown.contains("[number] / [number] for '[message]'"), shown)
    }
}
