/// The circuit breakers, and the operators' pauses, as one sender saw them at a claim: which
/// providers to skip, which to probe, which never to send to, and what that leaves.
public struct ProviderHealth: Sendable, Equatable {
    /// Open breakers, with milliseconds until each cool-down ends.
    public var open: [String: Int] = [:]
    /// Cool-down over, no answer since: one send at a time finds out whether it is back.
    public var halfOpen: Set<String> = []
    /// Paused by an operator (`textingctl providers pause`): never sent to, whatever its breaker.
    public var paused: Set<String> = []

    public init(open: [String: Int] = [:], halfOpen: Set<String> = [], paused: Set<String> = []) {
        self.open = open
        self.halfOpen = halfOpen
        self.paused = paused
    }

    /// How many jobs to claim for `providers`: a full batch while some unpaused breaker is
    /// closed; one probe per unpaused half-open provider when none is; none while every one
    /// is open or paused (the messages wait, spending no attempts, until a cool-down ends or
    /// an operator resumes one).
    public func claimLimit(providers: [String], batchSize: Int) -> Int {
        let usable = providers.filter { !paused.contains($0) }
        let closed = usable.filter { open[$0] == nil && !halfOpen.contains($0) }
        if !closed.isEmpty { return batchSize }
        return min(batchSize, usable.filter { halfOpen.contains($0) }.count)
    }

    /// Milliseconds until the first open breaker's cool-down ends, when every unpaused
    /// provider is open; a second when every provider is paused (a resume sends no
    /// notification: an idle sender sees it within that second).
    public func millisecondsUntilAnyProviderIsTried(providers: [String]) -> Int? {
        let usable = providers.filter { !paused.contains($0) }
        guard !providers.isEmpty else { return nil }
        guard !usable.isEmpty else { return Self.pausedPollMilliseconds }
        guard usable.allSatisfy({ open[$0] != nil }) else { return nil }
        return usable.compactMap { open[$0] }.min()
    }

    /// How often an idle sender looks again while every provider is paused.
    public static let pausedPollMilliseconds = 1000
}
