/// What a sender may send now to each provider with a contracted rate (`ProviderConfig.tps`),
/// as taken from the buckets every sender shares (`ProviderRateStore`) before a claim: one
/// token per send. Providers it does not name have no limit.
public struct ProviderTokens: Sendable, Equatable {
    /// Tokens left, by provider with a rate.
    public private(set) var left: [String: Int]
    /// For a provider with a rate that gave no token: milliseconds until it has one.
    public let waitMilliseconds: [String: Int]

    public init(left: [String: Int] = [:], waitMilliseconds: [String: Int] = [:]) {
        self.left = left
        self.waitMilliseconds = waitMilliseconds
    }

    /// Providers with a rate and no token left: the balancer passes them by.
    public var exhausted: Set<String> { Set(left.filter { $0.value <= 0 }.keys) }

    /// How many jobs a claim may take for `providers` (those it may send to now): up to
    /// `batchSize` while one of them has no limit, else the tokens they hold together.
    public func claimLimit(providers: [String], batchSize: Int) -> Int {
        if providers.contains(where: { left[$0] == nil }) { return batchSize }
        return min(batchSize, providers.reduce(0) { $0 + max(0, left[$1] ?? 0) })
    }

    /// One send to `provider` spends one of its tokens.
    public mutating func spend(_ provider: String) {
        if let tokens = left[provider] { left[provider] = tokens - 1 }
    }

    /// Milliseconds until one of `providers` has a token, when none has one now.
    public func millisecondsUntilAnyToken(providers: [String]) -> Int? {
        guard !providers.isEmpty, claimLimit(providers: providers, batchSize: 1) == 0 else { return nil }
        return providers.compactMap { waitMilliseconds[$0] }.min()
    }

    /// Tokens taken and not spent on this claim's jobs, by provider: given back to the
    /// buckets (`ProviderRateStore.giveBack`), so another sender (or the next claim) can use them.
    public var unspent: [String: Int] { left.filter { $0.value > 0 } }

    /// How many tokens to ask the providers with a rate for, when a claim may take `limit`
    /// jobs: all of it when every provider that may be sent to has a rate, or when one with a
    /// rate is cheaper than every one without (the balancer prefers it while it has tokens),
    /// else their share by weight (the rest go to those without a limit). What is not used is
    /// given back.
    public static func wanted(limit: Int, limited: [ProviderConfig], unlimited: [ProviderConfig]) -> Int {
        guard !unlimited.isEmpty else { return limit }
        let cheapestUnlimited = unlimited.map { $0.cost ?? .infinity }.min() ?? .infinity
        if limited.contains(where: { ($0.cost ?? .infinity) < cheapestUnlimited }) { return limit }
        let limitedWeight = limited.reduce(0) { $0 + $1.weight }
        let allWeight = limitedWeight + unlimited.reduce(0) { $0 + $1.weight }
        return allWeight == 0 ? 0 : (limit * limitedWeight + allWeight - 1) / allWeight
    }
}
