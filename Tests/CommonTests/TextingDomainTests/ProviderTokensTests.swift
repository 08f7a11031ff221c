import TextingDomain
import XCTest

/// What the contracted rates let a sender claim and send, once its tokens are taken.
final class ProviderTokensTests: XCTestCase {
    private func provider(_ name: String, weight: Int = 1, tps: Double? = nil, cost: Double? = nil) -> ProviderConfig {
        ProviderConfig(name: name, url: "http://127.0.0.1:9101/send", weight: weight, tps: tps, cost: cost)
    }

    func testWithoutRatesAClaimTakesAWholeBatch() {
        XCTAssertEqual(ProviderTokens().claimLimit(providers: ["p1", "p2"], batchSize: 100), 100)
        XCTAssertNil(ProviderTokens().millisecondsUntilAnyToken(providers: ["p1"]))
    }

    func testWithRatesOnlyTheTokensAreClaimed() {
        var tokens = ProviderTokens(left: ["p1": 3, "p2": 0], waitMilliseconds: ["p1": 0, "p2": 7])
        XCTAssertEqual(tokens.claimLimit(providers: ["p1", "p2"], batchSize: 100), 3)
        XCTAssertEqual(tokens.claimLimit(providers: ["p1", "p2"], batchSize: 2), 2)
        XCTAssertEqual(tokens.exhausted, ["p2"])
        tokens.spend("p1")
        tokens.spend("p1")
        tokens.spend("p1")
        XCTAssertEqual(tokens.exhausted, ["p1", "p2"])
        XCTAssertEqual(tokens.claimLimit(providers: ["p1", "p2"], batchSize: 100), 0)
    }

    func testWithNoTokenAnywhereTheSenderWaitsForTheFirstToCome() {
        let tokens = ProviderTokens(left: ["p1": 0, "p2": 0], waitMilliseconds: ["p1": 12, "p2": 7])
        XCTAssertEqual(tokens.claimLimit(providers: ["p1", "p2"], batchSize: 100), 0)
        XCTAssertEqual(tokens.millisecondsUntilAnyToken(providers: ["p1", "p2"]), 7)
        XCTAssertEqual(tokens.millisecondsUntilAnyToken(providers: ["p1"]), 12)
    }

    func testAProviderWithoutALimitTakesWhatTheOthersCannot() {
        let tokens = ProviderTokens(left: ["p1": 0], waitMilliseconds: ["p1": 20])
        XCTAssertEqual(tokens.claimLimit(providers: ["p1", "p2"], batchSize: 50), 50)
        XCTAssertNil(tokens.millisecondsUntilAnyToken(providers: ["p1", "p2"]))
        XCTAssertEqual(tokens.exhausted, ["p1"])
    }

    func testTokensAreAskedForByWeightWhenSomeProvidersHaveNoLimit() {
        let limited = [provider("p1", weight: 1, tps: 50)]
        XCTAssertEqual(ProviderTokens.wanted(limit: 100, limited: limited, unlimited: []), 100)
        XCTAssertEqual(ProviderTokens.wanted(limit: 100, limited: limited, unlimited: [provider("p2", weight: 3)]), 25)
        XCTAssertEqual(ProviderTokens.wanted(limit: 1, limited: limited, unlimited: [provider("p2", weight: 3)]), 1)
    }

    func testACheaperProviderWithARateIsAskedForEverything() {
        let cheap = [provider("p1", weight: 1, tps: 50, cost: 0.001)]
        XCTAssertEqual(ProviderTokens.wanted(limit: 100, limited: cheap, unlimited: [provider("p2", weight: 3, cost: 0.05)]), 100)
        XCTAssertEqual(ProviderTokens.wanted(limit: 100, limited: cheap, unlimited: [provider("p2", weight: 3)]), 100)  // no cost: last
        // As cheap or dearer: the balancer shares by weight or prefers the other, as before.
        XCTAssertEqual(ProviderTokens.wanted(limit: 100, limited: cheap, unlimited: [provider("p2", weight: 3, cost: 0.001)]), 25)
        XCTAssertEqual(ProviderTokens.wanted(limit: 100, limited: cheap, unlimited: [provider("p2", weight: 3, cost: 0.0001)]), 25)
    }

    func testWhatWasNotSpentIsGivenBack() {
        var tokens = ProviderTokens(left: ["p1": 3, "p2": 0], waitMilliseconds: ["p1": 0, "p2": 7])
        tokens.spend("p1")
        XCTAssertEqual(tokens.unspent, ["p1": 2])
        tokens.spend("p1")
        tokens.spend("p1")
        XCTAssertEqual(tokens.unspent, [:])
    }
}
