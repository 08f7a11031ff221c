import TextingDomain
import XCTest

final class WebhookDispositionTests: XCTestCase {
    let policy = WebhookRetryPolicy(
        backoff: Backoff(baseMilliseconds: 5_000, maximumMilliseconds: 6 * 3_600_000), retryForSeconds: 72 * 3600, disableAfterSeconds: 72 * 3600)

    private func judge(status: Int?, error: String? = nil, attempts: Int = 1, age: Int = 0, failingFor: Int? = nil, isEndpoint: Bool = true)
        -> WebhookDisposition
    {
        WebhookDisposition(
            status: status, error: error, attempts: attempts, eventAgeSeconds: age, failingForSeconds: failingFor, isEndpoint: isEndpoint,
            policy: policy, random: 0.5)
    }

    func testAny2xxIsDelivered() {
        for status in [200, 201, 202, 204, 299] { XCTAssertEqual(judge(status: status), .delivered) }
    }

    func testOtherAnswersAndNoAnswerAreRetriedWithBackoff() {
        for status in [301, 302, 400, 401, 404, 429, 500, 503] {
            XCTAssertEqual(judge(status: status), .retry(afterMilliseconds: 3_750, error: "answered HTTP \(status)"))
        }
        XCTAssertEqual(judge(status: nil, error: "HTTP transfer timed out", attempts: 3), .retry(afterMilliseconds: 15_000, error: "HTTP transfer timed out"))
    }

    func test410DisablesAnEndpointButOnlyGivesUpOnAStatusCallback() {
        XCTAssertEqual(judge(status: 410), .disableEndpoint(reason: "answered 410 Gone"))
        XCTAssertEqual(judge(status: 410, isEndpoint: false), .gaveUp(error: "answered HTTP 410"))
    }

    func testAnEndpointFailingForDaysIsDisabled() {
        XCTAssertEqual(
            judge(status: 500, failingFor: 72 * 3600),
            .disableEndpoint(reason: "no successful delivery for 72 hours; last attempt: answered HTTP 500"))
        if case .retry = judge(status: 500, failingFor: 72 * 3600 - 1) {} else { XCTFail("one second short of the limit is still retried") }
        // A status_callback has no endpoint to disable: its retries end with the event's period.
        if case .retry = judge(status: 500, failingFor: 100 * 3600, isEndpoint: false) {} else { XCTFail() }
    }

    func testAnEventIsGivenUpWhenTheNextTryWouldBePastTheRetryPeriod() {
        if case .gaveUp(let error) = judge(status: 500, attempts: 20, age: 72 * 3600 - 60) {
            XCTAssertTrue(error.hasPrefix("not delivered within 72 hours"))
        } else {
            XCTFail("expected to give up")
        }
        if case .retry = judge(status: 500, attempts: 1, age: 72 * 3600 - 60) {} else { XCTFail("a 5 s retry still fits") }
    }

    /// The documented schedule: 5 s doubling, capped at 6 h, half of each fixed, half random.
    func testTheScheduleReachesThreeDaysInAboutTwentyAttempts() {
        var elapsed = 0
        var attempts = 0
        while true {
            attempts += 1
            guard case .retry(let delay, _) = judge(status: 500, attempts: attempts, age: elapsed) else { break }
            elapsed += delay / 1000
        }
        XCTAssertTrue((18...30).contains(attempts), "\(attempts) attempts")
        XCTAssertGreaterThan(elapsed, 60 * 3600)
    }
}
