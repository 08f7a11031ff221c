/// The circuit breakers as one sender saw them at a claim: which providers to skip, which to
/// probe, and what that leaves to send to.
public struct ProviderHealth: Sendable, Equatable {
    /// Open breakers, with milliseconds until each cool-down ends.
    public var open: [String: Int] = [:]
    /// Cool-down over, no answer since: one send at a time finds out whether it is back.
    public var halfOpen: Set<String> = []

    public init(open: [String: Int] = [:], halfOpen: Set<String> = []) {
        self.open = open
        self.halfOpen = halfOpen
    }

    /// How many jobs to claim for `providers`: a full batch while some breaker is closed;
    /// one probe per half-open provider when none is; none while every breaker is open (the
    /// messages wait, spending no attempts, until a cool-down ends).
    public func claimLimit(providers: [String], batchSize: Int) -> Int {
        let closed = providers.filter { open[$0] == nil && !halfOpen.contains($0) }
        if !closed.isEmpty { return batchSize }
        return min(batchSize, providers.filter { halfOpen.contains($0) }.count)
    }

    /// Milliseconds until the first open breaker's cool-down ends, when every provider is open.
    public func millisecondsUntilAnyProviderIsTried(providers: [String]) -> Int? {
        guard !providers.isEmpty, providers.allSatisfy({ open[$0] != nil }) else { return nil }
        return providers.compactMap { open[$0] }.min()
    }
}
