import TextingDomain
import XCTest

final class ProviderBalancerTests: XCTestCase {
    private func provider(_ name: String, weight: Int = 1) -> ProviderConfig {
        ProviderConfig(name: name, url: "http://127.0.0.1:9101/\(name)", weight: weight)
    }

    func testEqualWeightsAlternate() {
        var balancer = ProviderBalancer(providers: [provider("p1"), provider("p2")])
        let picks = (0..<6).map { _ in balancer.next().name }
        XCTAssertEqual(picks, ["p1", "p2", "p1", "p2", "p1", "p2"])
    }

    func testAvoidingNeverReturnsTheFailedProviderWhenAnotherExists() {
        var balancer = ProviderBalancer(providers: [provider("p1"), provider("p2")])
        for round in 0..<50 {
            XCTAssertEqual(balancer.next(avoiding: "p1").name, "p2", "round \(round)")
        }
    }

    func testAvoidingHeavierProviderStillPicksTheLighterOne() {
        var balancer = ProviderBalancer(providers: [provider("big", weight: 1000), provider("small", weight: 1)])
        for round in 0..<20 {
            XCTAssertEqual(balancer.next(avoiding: "big").name, "small", "round \(round)")
        }
    }

    func testAvoidingTheOnlyProviderStillReturnsIt() {
        var balancer = ProviderBalancer(providers: [provider("p1")])
        XCTAssertEqual(balancer.next(avoiding: "p1").name, "p1")
        XCTAssertEqual(balancer.next(avoiding: "p1").name, "p1")
    }

    func testAvoidingAnUnknownNameChangesNothing() {
        var plain = ProviderBalancer(providers: [provider("p1"), provider("p2")])
        var avoiding = ProviderBalancer(providers: [provider("p1"), provider("p2")])
        for _ in 0..<10 {
            XCTAssertEqual(avoiding.next(avoiding: "p9").name, plain.next().name)
        }
    }

    func testAvoidingWithThreeProvidersPicksOneOfTheOthers() {
        var balancer = ProviderBalancer(providers: [provider("a"), provider("b"), provider("c")])
        var seen: Set<String> = []
        for _ in 0..<30 {
            let name = balancer.next(avoiding: "b").name
            XCTAssertNotEqual(name, "b")
            seen.insert(name)
        }
        XCTAssertEqual(seen, ["a", "c"])
    }

    func testWeights30And70GiveExactShareOver1000Picks() {
        var balancer = ProviderBalancer(providers: [provider("p1", weight: 30), provider("p2", weight: 70)])
        var counts: [String: Int] = [:]
        for _ in 0..<1000 { counts[balancer.next().name, default: 0] += 1 }
        XCTAssertEqual(counts, ["p1": 300, "p2": 700])
    }

    func testWeightedPicksAreInterleavedNotBursty() {
        // Smooth WRR with 30/70 never gives p2 more than 3 in a row, nor p1 twice in a row.
        var balancer = ProviderBalancer(providers: [provider("p1", weight: 30), provider("p2", weight: 70)])
        let picks = (0..<100).map { _ in balancer.next().name }
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
        for _ in 0..<5 { _ = balancer.next(avoiding: "p1") }
        var counts: [String: Int] = [:]
        for _ in 0..<100 { counts[balancer.next().name, default: 0] += 1 }
        XCTAssertEqual(counts, ["p1": 50, "p2": 50])
    }

    func testProvidersAreKeptInConfiguredOrder() {
        let providers = [provider("p1", weight: 30), provider("p2", weight: 70)]
        XCTAssertEqual(ProviderBalancer(providers: providers).providers, providers)
    }
}
