import TextingDomain
import XCTest

/// `JobOutcome(answer:…)` and `JobOutcome.withoutSending`: what a provider's answer, or the
/// job itself, means for a claimed job; pure rules (the clock and the backoff's random draw
/// are arguments).
final class JobOutcomeRulesTests: XCTestCase {
    private let now: Int64 = 1_800_000_000_000
    private let backoff = Backoff(baseMilliseconds: 1000, maximumMilliseconds: 60_000)

    private struct Sent {
        let job: ClaimedJob
        let provider = "p1"
    }

    private func sent(
        attempts: Int = 1, expiresAt: Int64? = nil, body: String = "Your code is 123456",
        number: String = "+15555550123", status: MessageStatus = .sending, active: Bool = true, optedOut: Bool = false
    ) -> Sent {
        Sent(
            job: ClaimedJob(
                messageID: 42, publicID: "3f2504e0-4f89-41d3-9a0c-0305e82c3301", toNumber: number, body: body, attempts: attempts,
                generation: 0, lastProvider: nil, status: status, phoneNumberActive: active, recipientOptedOut: optedOut,
                expiresAtMilliseconds: expiresAt))
    }

    private func outcome(_ answer: ProviderAnswer, _ sent: Sent, maximumAttempts: Int = 6, random: Double = 0) -> JobOutcome {
        JobOutcome(
            answer: answer, job: sent.job, provider: sent.provider, backoff: backoff, maximumAttempts: maximumAttempts,
            nowMilliseconds: now, random: random)
    }

    func testAcceptedIsSentUnderTheClaimsAttempt() throws {
        XCTAssertEqual(
            outcome(.accepted(providerMessageID: "p1-7"), sent(attempts: 3)),
            JobOutcome(messageID: 42, attempt: 3, .sent(provider: "p1", providerMessageID: "p1-7")))
        XCTAssertEqual(
            outcome(.accepted(providerMessageID: nil), sent()),
            JobOutcome(messageID: 42, attempt: 1, .sent(provider: "p1", providerMessageID: nil)))
    }

    func testPermanentFailsWithTheProvidersReason() throws {
        XCTAssertEqual(
            outcome(.permanent(reason: "provider rejected the message (400): nope"), sent(attempts: 2)),
            JobOutcome(
                messageID: 42, attempt: 2,
                .failed(
                    attempts: 2, provider: "p1", code: "provider_rejected",
                    detail: "provider rejected the message (400): nope"),
                failedSend: FailedSend(provider: "p1", answer: "provider rejected the message (400): nope")))
    }

    func testEverySendNotAcceptedIsKeptWithItsProviderAndAnswer() throws {
        XCTAssertNil(outcome(.accepted(providerMessageID: "p1-7"), sent()).failedSend)
        XCTAssertEqual(
            outcome(.permanent(reason: "provider rejected the message (400): no", providerCode: "21211"), sent()).failedSend,
            FailedSend(provider: "p1", answer: "provider rejected the message (400): no", providerCode: "21211"))
        // Retried, and the last of the attempts: the provider's words, not the message's error.
        XCTAssertEqual(
            outcome(.temporary(reason: "provider answered 503: busy", retryAfterMilliseconds: nil), sent(attempts: 1)).failedSend,
            FailedSend(provider: "p1", answer: "provider answered 503: busy"))
        let last = outcome(.temporary(reason: "timeout", retryAfterMilliseconds: nil), sent(attempts: 6), maximumAttempts: 6)
        guard case .failed(_, _, "retries_exhausted", _, _) = last.disposition else { return XCTFail("\(last.disposition)") }
        XCTAssertEqual(last.failedSend, FailedSend(provider: "p1", answer: "timeout"))
    }

    func testAnOutcomeDecidedWithoutSendingHasNoFailedSend() throws {
        let job = sent(active: false).job
        XCTAssertNil(JobOutcome.withoutSending(job, nowMilliseconds: now)?.failedSend)
        XCTAssertNotNil(JobOutcome.withoutSending(job, nowMilliseconds: now))
        XCTAssertNil(JobOutcome.noRoute(job).failedSend)
    }

    func testTemporaryRetriesAfterTheBackoffDrawnFromRandom() throws {
        // Attempt 2: ceiling 2000 ms; "equal jitter" gives 1000 + random × 1000.
        XCTAssertEqual(
            outcome(.temporary(reason: "503", retryAfterMilliseconds: nil), sent(attempts: 2), random: 0).disposition,
            .retry(provider: "p1", error: "503", delayMilliseconds: 1000))
        XCTAssertEqual(
            outcome(.temporary(reason: "503", retryAfterMilliseconds: nil), sent(attempts: 2), random: 0.5).disposition,
            .retry(provider: "p1", error: "503", delayMilliseconds: 1500))
    }

    func testRetryAfterLongerThanTheBackoffWins() throws {
        XCTAssertEqual(
            outcome(.temporary(reason: "429", retryAfterMilliseconds: 30_000), sent(attempts: 1)).disposition,
            .retry(provider: "p1", error: "429", delayMilliseconds: 30_000))
    }

    func testTemporaryOnTheLastAttemptFailsAsRetriesExhausted() throws {
        guard
            case .failed(let attempts, _, let code, let detail, _) = outcome(
                .temporary(reason: "timed out", retryAfterMilliseconds: nil),
                sent(attempts: 3), maximumAttempts: 3
            ).disposition
        else {
            return XCTFail()
        }
        XCTAssertEqual(attempts, 3)
        XCTAssertEqual(code, "retries_exhausted")
        XCTAssertTrue(detail.contains("timed out"), detail)
    }

    func testTemporaryWhoseNextAttemptIsPastTheValidityFailsAsExpired() throws {
        // The next attempt would come 500 ms from now at the earliest; the message expires in 400.
        guard
            case .failed(_, _, let code, _, _) = outcome(
                .temporary(reason: "503", retryAfterMilliseconds: nil),
                sent(attempts: 1, expiresAt: now + 400)
            ).disposition
        else { return XCTFail() }
        XCTAssertEqual(code, "expired")
        XCTAssertEqual(
            outcome(.temporary(reason: "503", retryAfterMilliseconds: nil), sent(attempts: 1, expiresAt: now + 60_000)).disposition,
            .retry(provider: "p1", error: "503", delayMilliseconds: 500))
    }

    func testTheNumberAndTheTextAnEchoingProviderQuotesAreMasked() throws {
        let job = sent(body: "Your code is 123456\nand \"quoted\"").job
        // Raw, JSON-escaped, and past the 200 bytes an excerpt keeps.
        let body =
            String(repeating: "-", count: 190) + #"{"error":"bad number +15555550123 / 15555550123 for 'Your code is 123456\nand \"quoted\"'"}"#
            + " then raw: Your code is 123456\nand \"quoted\""
        let answer = ProviderAnswer(status: 400, retryAfter: nil, body: Array(body.utf8), masking: job.secrets)
        guard case .permanent(let reason, _) = answer else { return XCTFail() }
        XCTAssertFalse(reason.contains("5555550123"), reason)
        XCTAssertFalse(reason.contains("Your code"), reason)
        let whole = ProviderAnswer(status: 400, retryAfter: nil, body: Array(String(body.dropFirst(190)).utf8), masking: job.secrets)
        guard case .permanent(let shown, _) = whole else { return XCTFail() }
        XCTAssertTrue(shown.contains("[number] / [number] for '[message]'"), shown)
    }

    func testAJobNotToBeSentGetsItsOutcomeWithoutSending() {
        XCTAssertNil(JobOutcome.withoutSending(sent().job, nowMilliseconds: now))
        XCTAssertEqual(JobOutcome.withoutSending(sent(status: .canceled).job, nowMilliseconds: now)?.disposition, .dropped)
        guard
            case .failed(let attempts, nil, "phone_number_inactive", _, nil)? = JobOutcome.withoutSending(
                sent(attempts: 2, active: false).job, nowMilliseconds: now)?.disposition
        else {
            return XCTFail("an inactive number fails the job")
        }
        XCTAssertEqual(attempts, 1, "the claim's attempt was not made")
        guard case .failed(_, nil, "expired", _, nil)? = JobOutcome.withoutSending(sent(expiresAt: now).job, nowMilliseconds: now)?.disposition else {
            return XCTFail("a job past its validity fails as expired")
        }
        guard
            case .failed(let notMade, nil, "recipient_opted_out", _, nil)? = JobOutcome.withoutSending(
                sent(attempts: 3, optedOut: true).job, nowMilliseconds: now)?.disposition
        else {
            return XCTFail("a recipient who opted out gets nothing more")
        }
        XCTAssertEqual(notMade, 2)
    }

    func testAJobWhoseRecipientIsNotHeldWaitsAMomentOnTheSameLease() {
        let job = ClaimedJob(
            messageID: 42, publicID: "3f2504e0-4f89-41d3-9a0c-0305e82c3301", toNumber: "+15555550123", body: "Hi", attempts: 2,
            generation: 0, lastProvider: "p2", status: .sending, phoneNumberActive: true, recipientHeld: false, expiresAtMilliseconds: nil)
        let outcome = JobOutcome.withoutSending(job, nowMilliseconds: now)
        XCTAssertEqual(
            outcome?.disposition,
            .retry(provider: "p2", error: "an opt-out of the recipient was being recorded", delayMilliseconds: JobOutcome.busyRetryMilliseconds))
        XCTAssertEqual(outcome?.attempt, 2, "recorded under the claim's lease")
    }
}

final class JobOutcomeRoutingTests: XCTestCase {
    private let job = ClaimedJob(
        messageID: 7, publicID: "3f2504e0-4f89-41d3-9a0c-0305e82c3301", toNumber: "+447700900123", body: "hello", attempts: 3,
        generation: 0, lastProvider: "p1", status: .sending, phoneNumberActive: true, expiresAtMilliseconds: nil, segments: 2,
        dueAtMicroseconds: 1_800_000_000_123_456)

    func testANumberWithoutARouteFailsWithoutSpendingAnAttempt() {
        XCTAssertEqual(
            JobOutcome.noRoute(job).disposition,
            .failed(
                attempts: 2, provider: nil, code: "no_route",
                detail: "No configured provider takes numbers like this one (see the providers' prefixes)."))
    }

    func testADeferredJobGoesBackToWhenItWasDue() {
        XCTAssertEqual(JobOutcome.deferred(job), JobOutcome(messageID: 7, attempt: 3, .deferred(dueAtMicroseconds: 1_800_000_000_123_456)))
    }

    func testARejectionCarriesTheProvidersCodeAndAnAcceptanceItsCharge() {
        let backoff = Backoff(baseMilliseconds: 1000, maximumMilliseconds: 60_000)
        let rejected = JobOutcome(
            answer: .permanent(reason: "no", providerCode: "30003"), job: job, provider: "p2", backoff: backoff, maximumAttempts: 6,
            nowMilliseconds: 0, random: 0)
        XCTAssertEqual(rejected.disposition, .failed(attempts: 3, provider: "p2", code: "provider_rejected", detail: "no", providerCode: "30003"))
        let provider = ProviderConfig(name: "uk", url: "http://a", weight: 1, prefixes: ["+44", "+4477"], cost: 0.04)
        let charge = SendCharge(provider: provider, number: job.toNumber, segments: job.segments)
        XCTAssertEqual(charge, SendCharge(prefix: "+4477", segments: 2, cost: 0.08))
        let accepted = JobOutcome(
            answer: .accepted(providerMessageID: "x"), job: job, provider: "uk", charge: charge, backoff: backoff, maximumAttempts: 6,
            nowMilliseconds: 0, random: 0)
        XCTAssertEqual(accepted.disposition, .sent(provider: "uk", providerMessageID: "x", charge: charge))
        XCTAssertNil(SendCharge(provider: ProviderConfig(name: "any", url: "http://a", weight: 1), number: job.toNumber, segments: 1).cost)
    }
}
