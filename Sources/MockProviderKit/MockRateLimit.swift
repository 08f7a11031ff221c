/// The mock provider's contracted rate, enforced as providers do: a token bucket filling at
/// `tps` per second and holding a fifth of a second's worth (at least one). A send that finds
/// it empty is answered 429; one that finds a token takes it. Answers other than acceptance
/// still take their token: the provider spent its capacity on them.
struct MockRateLimit: Sendable, Equatable {
    private(set) var tokens: Double = 0
    private var filledAt: Double?

    /// Seconds of sending the bucket holds.
    static let burstSeconds = 0.2

    static func capacity(tps: Int) -> Double {
        max(1, Double(tps) * burstSeconds)
    }

    /// Whether a send at `now` (seconds) is within `tps`; takes its token if so. `tps` 0: always.
    mutating func admit(now: Double, tps: Int) -> Bool {
        guard tps > 0 else { return true }
        let capacity = Self.capacity(tps: tps)
        if let filledAt {
            tokens = min(capacity, tokens + max(0, now - filledAt) * Double(tps))
        } else {
            tokens = capacity
        }
        filledAt = now
        guard tokens >= 1 else { return false }
        tokens -= 1
        return true
    }
}
