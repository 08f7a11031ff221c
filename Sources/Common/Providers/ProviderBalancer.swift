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

    /// The provider for the next send. `avoiding` is the provider that just failed this
    /// message; `unavailable` are those whose circuit breaker is open. Both are only
    /// preferences: when they would leave nobody, the breaker is ignored first, then `avoiding`.
    public mutating func next(avoiding previous: String? = nil, unavailable: Set<String> = []) -> ProviderConfig {
        let previousIndex = providers.count > 1 ? previous.flatMap { name in providers.firstIndex { $0.name == name } } : nil
        let open = Set(providers.indices.filter { unavailable.contains(providers[$0].name) })
        let preferences: [Set<Int>] = [open.union(previousIndex.map { [$0] } ?? []), previousIndex.map { [$0] } ?? [], []]
        for excluded in preferences {
            if let index = roundRobin.next(excluding: excluded) { return providers[index] }
        }
        preconditionFailure("round-robin over a non-empty provider list returned nobody")
    }
}
