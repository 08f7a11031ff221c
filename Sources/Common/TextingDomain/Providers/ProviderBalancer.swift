/// Chooses the provider for each send: smooth weighted round-robin over the configured
/// providers, avoiding the one the previous attempt failed on when there is another.
public struct ProviderBalancer: Sendable {
    public let providers: [ProviderConfig]
    private var roundRobin: SmoothWeightedRoundRobin

    public init(providers: [ProviderConfig]) {
        precondition(!providers.isEmpty, "at least one provider is configured")
        self.providers = providers
        roundRobin = SmoothWeightedRoundRobin(weights: providers.map(\.weight))
    }

    /// The provider for the next send. `unavailable` are those whose circuit breaker is open
    /// (or half-open and already probed); `avoiding` is the provider that just failed this
    /// message. Both are preferences: when they would leave nobody, the retry rule gives way
    /// first (a healthy provider that failed once beats one known to be down), then the
    /// breaker (the caller limits claims so that this is rare).
    public mutating func next(avoiding previous: String? = nil, unavailable: Set<String> = []) -> ProviderConfig {
        let previousIndex = providers.count > 1 ? previous.flatMap { name in providers.firstIndex { $0.name == name } } : nil
        let down = Set(providers.indices.filter { unavailable.contains(providers[$0].name) })
        let avoided: Set<Int> = previousIndex.map { [$0] } ?? []
        for excluded in [down.union(avoided), down, avoided, []] {
            if let index = roundRobin.next(excluding: excluded) { return providers[index] }
        }
        preconditionFailure("round-robin over a non-empty provider list returned nobody")
    }
}
