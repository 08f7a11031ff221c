/// Chooses the provider for each send, by the number it goes to:
///
/// 1. Only providers that take the number (`ProviderConfig.prefixes`; none: every number) are
///    candidates; a number nobody takes has no route.
/// 2. Candidates are ranked: the longest matching prefix first (a provider for `+4477` beats
///    one for `+44`, which beats one for every number), then the lowest cost per segment (a
///    provider without a cost comes after those with one), then smooth weighted round-robin
///    among equals.
/// 3. The best-ranked candidate that is healthy and was not the previous attempt's wins: so
///    a temporary failure fails over to the next one. `unavailable` (open breakers, probed
///    half-open ones) and `avoiding` (the provider that just failed this message) are
///    preferences: when they would leave nobody, the retry rule gives way first (a healthy
///    provider that failed once beats one known to be down), then the breaker.
/// 4. `closed` providers (paused by an operator, out of tokens for their contracted rate) are
///    never chosen: when only they take the number, there is no provider now and the
///    message waits.
public struct ProviderBalancer: Sendable {
    public let providers: [ProviderConfig]
    private var roundRobin: SmoothWeightedRoundRobin
    /// Whether some provider takes only some numbers: claims must then be matched to routes.
    public let routesByPrefix: Bool
    /// Without prefixes every number has the same candidates: their tiers, ranked once.
    private let tiersForEveryNumber: [[Int]]?
    private let everyone: Set<Int>

    /// What the balancer decided for one send.
    public enum Choice: Sendable, Equatable {
        case provider(ProviderConfig)
        /// Only `closed` providers take the number: it waits.
        case noneNow
        /// No configured provider takes the number.
        case noRoute
    }

    public init(providers: [ProviderConfig]) {
        precondition(!providers.isEmpty, "at least one provider is configured")
        self.providers = providers
        roundRobin = SmoothWeightedRoundRobin(weights: providers.map(\.weight))
        routesByPrefix = providers.contains { !$0.prefixes.isEmpty }
        tiersForEveryNumber = routesByPrefix ? nil : Self.tiers(providers, to: "")
        everyone = Set(providers.indices)
    }

    /// The provider for the next send to `number`, as the type's rules say.
    public mutating func next(
        to number: String, avoiding previous: String? = nil, unavailable: Set<String> = [], closed: Set<String> = []
    ) -> Choice {
        let tiers = tiersForEveryNumber ?? Self.tiers(providers, to: number)
        guard !tiers.isEmpty else { return .noRoute }
        let open = tiers.map { tier in tier.filter { !closed.contains(providers[$0].name) } }.filter { !$0.isEmpty }
        guard !open.isEmpty else { return .noneNow }
        let candidates = open.reduce(0) { $0 + $1.count }
        let previousIndex = candidates > 1 ? previous.flatMap { name in providers.firstIndex { $0.name == name } } : nil
        let down = Set(providers.indices.filter { unavailable.contains(providers[$0].name) })
        let avoided: Set<Int> = previousIndex.map { [$0] } ?? []
        for excluded in [down.union(avoided), down, avoided, []] {
            for tier in open {
                if let index = roundRobin.next(excluding: everyone.subtracting(tier).union(excluded)) {
                    return .provider(providers[index])
                }
            }
        }
        preconditionFailure("round-robin over a non-empty tier returned nobody")
    }

    /// The providers that take `number`, as indices, in tiers of equal rank (rule 2).
    static func tiers(_ providers: [ProviderConfig], to number: String) -> [[Int]] {
        let ranked = providers.indices.compactMap { index -> (index: Int, length: Int, cost: Double)? in
            guard let prefix = providers[index].matchedPrefix(of: number) else { return nil }
            return (index, prefix.count, providers[index].cost ?? .infinity)
        }
        var tiers: [[Int]] = []
        var rank: (length: Int, cost: Double)?
        for candidate in ranked.sorted(by: { ($0.length, -$0.cost, -$0.index) > ($1.length, -$1.cost, -$1.index) }) {
            if let rank, rank.length == candidate.length && rank.cost == candidate.cost {
                tiers[tiers.count - 1].append(candidate.index)
            } else {
                tiers.append([candidate.index])
            }
            rank = (candidate.length, candidate.cost)
        }
        return tiers
    }
}
