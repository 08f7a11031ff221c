import TextingDomain
import XCTest

final class ProviderBalancerTests: XCTestCase {
    private func provider(_ name: String, weight: Int = 1) -> ProviderConfig {
        ProviderConfig(name: name, url: "http://127.0.0.1:9101/\(name)", weight: weight)
    }

    func testEqualWeightsAlternate() {
        var balancer = ProviderBalancer(providers: [provider("p1"), provider("p2")])
        let picks = (0..<6).map { _ in balancer.pick().name }
        XCTAssertEqual(picks, ["p1", "p2", "p1", "p2", "p1", "p2"])
    }

    func testAvoidingNeverReturnsTheFailedProviderWhenAnotherExists() {
        var balancer = ProviderBalancer(providers: [provider("p1"), provider("p2")])
        for round in 0..<50 {
            XCTAssertEqual(balancer.pick(avoiding: "p1").name, "p2", "round \(round)")
        }
    }

    func testAvoidingHeavierProviderStillPicksTheLighterOne() {
        var balancer = ProviderBalancer(providers: [provider("big", weight: 1000), provider("small", weight: 1)])
        for round in 0..<20 {
            XCTAssertEqual(balancer.pick(avoiding: "big").name, "small", "round \(round)")
        }
    }

    func testAvoidingTheOnlyProviderStillReturnsIt() {
        var balancer = ProviderBalancer(providers: [provider("p1")])
        XCTAssertEqual(balancer.pick(avoiding: "p1").name, "p1")
        XCTAssertEqual(balancer.pick(avoiding: "p1").name, "p1")
    }

    func testAvoidingAnUnknownNameChangesNothing() {
        var plain = ProviderBalancer(providers: [provider("p1"), provider("p2")])
        var avoiding = ProviderBalancer(providers: [provider("p1"), provider("p2")])
        for _ in 0..<10 {
            XCTAssertEqual(avoiding.pick(avoiding: "p9").name, plain.pick().name)
        }
    }

    func testAvoidingWithThreeProvidersPicksOneOfTheOthers() {
        var balancer = ProviderBalancer(providers: [provider("a"), provider("b"), provider("c")])
        var seen: Set<String> = []
        for _ in 0..<30 {
            let name = balancer.pick(avoiding: "b").name
            XCTAssertNotEqual(name, "b")
            seen.insert(name)
        }
        XCTAssertEqual(seen, ["a", "c"])
    }

    func testWeights30And70GiveExactShareOver1000Picks() {
        var balancer = ProviderBalancer(providers: [provider("p1", weight: 30), provider("p2", weight: 70)])
        var counts: [String: Int] = [:]
        for _ in 0..<1000 { counts[balancer.pick().name, default: 0] += 1 }
        XCTAssertEqual(counts, ["p1": 300, "p2": 700])
    }

    func testWeightedPicksAreInterleavedNotBursty() {
        // Smooth WRR with 30/70 never gives p2 more than 3 in a row, nor p1 twice in a row.
        var balancer = ProviderBalancer(providers: [provider("p1", weight: 30), provider("p2", weight: 70)])
        let picks = (0..<100).map { _ in balancer.pick().name }
        var longestRun: [String: Int] = [:]
        var run = 0
        for (index, name) in picks.enumerated() {
            run = index > 0 && picks[index - 1] == name ? run + 1 : 1
            longestRun[name] = max(longestRun[name] ?? 0, run)
        }
        XCTAssertEqual(longestRun["p1"], 1)
        XCTAssertLessThanOrEqual(longestRun["p2"] ?? 0, 3)
    }

    func testAvoidedPicksDoNotStarveTheAvoidedProviderAfterwards() {
        var balancer = ProviderBalancer(providers: [provider("p1"), provider("p2")])
        for _ in 0..<5 { _ = balancer.pick(avoiding: "p1") }
        var counts: [String: Int] = [:]
        for _ in 0..<100 { counts[balancer.pick().name, default: 0] += 1 }
        XCTAssertEqual(counts, ["p1": 50, "p2": 50])
    }

    func testProvidersAreKeptInConfiguredOrder() {
        let providers = [provider("p1", weight: 30), provider("p2", weight: 70)]
        XCTAssertEqual(ProviderBalancer(providers: providers).providers, providers)
    }
}

extension ProviderBalancer {
    /// The provider for a send to a number every provider takes (the tests above configure no
    /// prefixes): never `noRoute` nor `noneNow` there.
    mutating func pick(avoiding previous: String? = nil, unavailable: Set<String> = []) -> ProviderConfig {
        guard case .provider(let provider) = next(to: "+15555550100", avoiding: previous, unavailable: unavailable) else {
            preconditionFailure("a provider that takes every number was not chosen")
        }
        return provider
    }
}

final class ProviderRoutingTests: XCTestCase {
    private func provider(_ name: String, prefixes: [String] = [], cost: Double? = nil, weight: Int = 1) -> ProviderConfig {
        ProviderConfig(name: name, url: "http://127.0.0.1:9101/\(name)", weight: weight, prefixes: prefixes, cost: cost)
    }

    private func names(
        _ balancer: inout ProviderBalancer, to number: String, count: Int = 6, avoiding: String? = nil,
        unavailable: Set<String> = [], closed: Set<String> = []
    ) -> [String] {
        (0..<count).map { _ in
            switch balancer.next(to: number, avoiding: avoiding, unavailable: unavailable, closed: closed) {
            case .provider(let provider): provider.name
            case .noneNow: "none now"
            case .noRoute: "no route"
            }
        }
    }

    func testOnlyProvidersWhosePrefixMatchesAreChosen() {
        var balancer = ProviderBalancer(providers: [provider("us", prefixes: ["+1"]), provider("uk", prefixes: ["+44"])])
        XCTAssertEqual(Set(names(&balancer, to: "+14155550100")), ["us"])
        XCTAssertEqual(Set(names(&balancer, to: "+447700900123")), ["uk"])
        XCTAssertTrue(balancer.routesByPrefix)
    }

    func testANumberNobodyTakesHasNoRoute() {
        var balancer = ProviderBalancer(providers: [provider("us", prefixes: ["+1"]), provider("uk", prefixes: ["+44"])])
        XCTAssertEqual(names(&balancer, to: "+33612345678", count: 1), ["no route"])
        XCTAssertFalse(ProviderConfig.someone(of: balancer.providers, takes: "+33612345678"))
        XCTAssertTrue(ProviderConfig.someone(of: balancer.providers, takes: "+4420"))
    }

    func testTheLongestMatchWinsOverACheaperShorterOne() {
        var balancer = ProviderBalancer(providers: [
            provider("nanp", prefixes: ["+1"], cost: 0.001), provider("jamaica", prefixes: ["+1876"], cost: 0.05), provider("any", cost: 0.0001),
        ])
        XCTAssertEqual(Set(names(&balancer, to: "+18765550100")), ["jamaica"])
        XCTAssertEqual(Set(names(&balancer, to: "+14155550100")), ["nanp"])
        XCTAssertEqual(Set(names(&balancer, to: "+33612345678")), ["any"])
    }

    func testTheCheapestIsPreferredThenWeightsAmongEquals() {
        var balancer = ProviderBalancer(providers: [
            provider("dear", cost: 0.02), provider("cheap-a", cost: 0.005, weight: 1), provider("cheap-b", cost: 0.005, weight: 3),
            provider("unknown"),
        ])
        var counts: [String: Int] = [:]
        for name in names(&balancer, to: "+14155550100", count: 40) { counts[name, default: 0] += 1 }
        XCTAssertEqual(counts, ["cheap-a": 10, "cheap-b": 30])
    }

    func testATemporaryFailureFailsOverToTheNextCheapest() {
        var balancer = ProviderBalancer(providers: [provider("cheap", cost: 0.001), provider("mid", cost: 0.01), provider("dear", cost: 0.1)])
        XCTAssertEqual(Set(names(&balancer, to: "+14155550100", avoiding: "cheap")), ["mid"])
        XCTAssertEqual(Set(names(&balancer, to: "+14155550100", unavailable: ["cheap"])), ["mid"])
        XCTAssertEqual(Set(names(&balancer, to: "+14155550100", avoiding: "mid", unavailable: ["cheap"])), ["dear"])
        // Everyone down: the breaker gives way, in order of rank, but not to the one that just failed.
        XCTAssertEqual(Set(names(&balancer, to: "+14155550100", avoiding: "cheap", unavailable: ["cheap", "mid", "dear"])), ["mid"])
    }

    func testClosedProvidersAreNeverChosen() {
        var balancer = ProviderBalancer(providers: [provider("us", prefixes: ["+1"]), provider("any", cost: 1)])
        XCTAssertEqual(Set(names(&balancer, to: "+14155550100", closed: ["us"])), ["any"])
        XCTAssertEqual(names(&balancer, to: "+14155550100", count: 2, closed: ["us", "any"]), ["none now", "none now"])
        // Even when the only other one is down and failed this message before.
        XCTAssertEqual(Set(names(&balancer, to: "+14155550100", avoiding: "any", unavailable: ["any"], closed: ["us"])), ["any"])
    }

    func testWithoutPrefixesOrCostsEveryoneIsOneTierAsBefore() {
        var balancer = ProviderBalancer(providers: [provider("p1", weight: 30), provider("p2", weight: 70)])
        var counts: [String: Int] = [:]
        for name in names(&balancer, to: "+14155550100", count: 100) { counts[name, default: 0] += 1 }
        XCTAssertEqual(counts, ["p1": 30, "p2": 70])
        XCTAssertFalse(balancer.routesByPrefix)
    }
}
