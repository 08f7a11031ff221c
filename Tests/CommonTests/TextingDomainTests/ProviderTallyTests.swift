import TextingDomain
import TextingSupport
import XCTest

final class ProviderTallyTests: XCTestCase {
    func testTrailingFailuresCountOnlyFailuresAfterTheLastAnswer() {
        var tally = ProviderTally(provider: "p1")
        tally.record(.temporary(reason: "500", retryAfterMilliseconds: nil))
        tally.record(.accepted(providerMessageID: "a"))
        tally.record(.temporary(reason: "timeout", retryAfterMilliseconds: nil))
        tally.record(.temporary(reason: "503", retryAfterMilliseconds: nil))
        XCTAssertEqual(tally.accepted, 1)
        XCTAssertEqual(tally.temporaryFailures, 3)
        XCTAssertEqual(tally.trailingFailures, 2)
        XCTAssertTrue(tally.answered)
    }

    func testPermanentRejectionMeansTheProviderIsUp() {
        var tally = ProviderTally(provider: "p1")
        tally.record(.temporary(reason: "500", retryAfterMilliseconds: nil))
        tally.record(.permanent(reason: "400"))
        XCTAssertEqual(tally.trailingFailures, 0)
        XCTAssertTrue(tally.answered)
        XCTAssertEqual(tally.permanentFailures, 1)
    }

    func testA429CountsAsRateLimitedAndAsATemporaryFailure() {
        var tally = ProviderTally(provider: "p1")
        tally.record(ProviderAnswer(status: 429, retryAfter: "1", body: []))
        tally.record(ProviderAnswer(status: 503, retryAfter: nil, body: []))
        XCTAssertEqual(tally.rateLimited, 1)
        XCTAssertEqual(tally.temporaryFailures, 2)
        XCTAssertTrue(ProviderAnswer(status: 429, retryAfter: nil, body: []).isRateLimit)
        XCTAssertFalse(ProviderAnswer(status: 503, retryAfter: nil, body: Array("provider rate limited (429)".utf8)).isRateLimit)
    }

    func testTheLastAnswerThatWasNotAnAcceptanceIsKept() {
        var tally = ProviderTally(provider: "p1")
        tally.record(.accepted(providerMessageID: "a"))
        XCTAssertNil(tally.lastFailure)
        tally.record(.temporary(reason: "provider answered 503: busy", retryAfterMilliseconds: nil))
        tally.record(.permanent(reason: "provider rejected the message (400): bad", providerCode: "21211"))
        tally.record(.accepted(providerMessageID: "b"))
        // An acceptance after it does not clear it: it is the last failure, not the last answer.
        XCTAssertEqual(tally.lastFailure, "provider rejected the message (400): bad")
    }

    func testOnlyFailuresIsNotAnAnswer() {
        var tally = ProviderTally(provider: "p1")
        tally.record(.temporary(reason: "refused", retryAfterMilliseconds: nil))
        XCTAssertFalse(tally.answered)
        XCTAssertEqual(tally.trailingFailures, 1)
    }
}

final class ProviderBalancerBreakerTests: XCTestCase {
    private let providers = [
        ProviderConfig(name: "p1", url: "http://127.0.0.1:1/send", weight: 1),
        ProviderConfig(name: "p2", url: "http://127.0.0.1:2/send", weight: 1),
        ProviderConfig(name: "p3", url: "http://127.0.0.1:3/send", weight: 1),
    ]

    func testOpenProvidersAreSkipped() {
        var balancer = ProviderBalancer(providers: providers)
        let picks = (0..<30).map { _ in balancer.pick(unavailable: ["p2"]).name }
        XCTAssertFalse(picks.contains("p2"))
        XCTAssertEqual(picks.filter { $0 == "p1" }.count, 15)
    }

    func testWhenEveryOtherProviderIsOpenTheRetryRuleGivesWayBeforeTheBreaker() {
        var balancer = ProviderBalancer(providers: Array(providers.prefix(2)))
        // p2 is known to be down and p1 failed this message once: p1 again, not p2.
        XCTAssertEqual(balancer.pick(avoiding: "p1", unavailable: ["p2"]).name, "p1")
    }

    func testWhenAllAreOpenSomebodyIsStillChosen() {
        var balancer = ProviderBalancer(providers: providers)
        let pick = balancer.pick(avoiding: "p1", unavailable: ["p1", "p2", "p3"]).name
        XCTAssertNotEqual(pick, "p1")
    }
}

final class PrometheusTextTests: XCTestCase {
    func testLabelsAreSortedAndEscaped() {
        var text = PrometheusText()
        text.header("m", "gauge", "Help.")
        text.sample("m", labels: ["z": "a\"b\\c\nd", "a": "x"], value: "3")
        XCTAssertEqual(text.output, "# HELP m Help.\n# TYPE m gauge\nm{a=\"x\",z=\"a\\\"b\\\\c\\nd\"} 3\n")
    }
}

final class ProviderHealthTests: XCTestCase {
    private let names = ["p1", "p2"]

    func testAFullBatchWhileSomeBreakerIsClosed() {
        XCTAssertEqual(ProviderHealth().claimLimit(providers: names, batchSize: 100), 100)
        XCTAssertEqual(ProviderHealth(open: ["p1": 500]).claimLimit(providers: names, batchSize: 100), 100)
        XCTAssertEqual(ProviderHealth(halfOpen: ["p2"]).claimLimit(providers: names, batchSize: 100), 100)
    }

    func testOneProbePerHalfOpenProviderWhenNoneIsClosed() {
        XCTAssertEqual(ProviderHealth(open: ["p1": 500], halfOpen: ["p2"]).claimLimit(providers: names, batchSize: 100), 1)
        XCTAssertEqual(ProviderHealth(halfOpen: ["p1", "p2"]).claimLimit(providers: names, batchSize: 100), 2)
    }

    func testPausedProvidersCountForNothing() {
        XCTAssertEqual(ProviderHealth(paused: ["p1"]).claimLimit(providers: names, batchSize: 100), 100)
        XCTAssertEqual(ProviderHealth(paused: ["p1", "p2"]).claimLimit(providers: names, batchSize: 100), 0)
        XCTAssertEqual(ProviderHealth(halfOpen: ["p2"], paused: ["p1"]).claimLimit(providers: names, batchSize: 100), 1)
        XCTAssertEqual(ProviderHealth(open: ["p2": 700], paused: ["p1"]).claimLimit(providers: names, batchSize: 100), 0)
        XCTAssertEqual(ProviderHealth(open: ["p2": 700], paused: ["p1"]).millisecondsUntilAnyProviderIsTried(providers: names), 700)
        XCTAssertEqual(ProviderHealth(paused: ["p1", "p2"]).millisecondsUntilAnyProviderIsTried(providers: names), 1000)
    }

    func testNothingIsClaimedWhileEveryBreakerIsOpen() {
        let health = ProviderHealth(open: ["p1": 500, "p2": 1500])
        XCTAssertEqual(health.claimLimit(providers: names, batchSize: 100), 0)
        XCTAssertEqual(health.millisecondsUntilAnyProviderIsTried(providers: names), 500)
        XCTAssertNil(ProviderHealth(open: ["p1": 500]).millisecondsUntilAnyProviderIsTried(providers: names))
    }

    func testBreakersOfProvidersNoLongerConfiguredDoNotCount() {
        XCTAssertEqual(ProviderHealth(open: ["old": 500]).claimLimit(providers: names, batchSize: 10), 10)
    }
}
