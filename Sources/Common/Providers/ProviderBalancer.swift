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

    /// The provider for the next send; `avoiding` is the provider that just failed it.
    public mutating func next(avoiding previous: String? = nil) -> ProviderConfig {
        var excluded: Set<Int> = []
        if providers.count > 1, let previous, let index = providers.firstIndex(where: { $0.name == previous }) {
            excluded.insert(index)
        }
        let index = roundRobin.next(excluding: excluded) ?? roundRobin.next()!
        return providers[index]
    }
}
