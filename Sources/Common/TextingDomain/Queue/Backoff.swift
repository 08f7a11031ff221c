/// How long to wait before retrying a failed send: exponential so a struggling provider is
/// not hammered, capped so a message is never parked for too long, and jittered so retries
/// of many messages do not arrive in lockstep.
public struct Backoff: Sendable, Equatable {
    /// The ceiling of the first delay.
    public let baseMilliseconds: Int
    /// The ceiling no delay exceeds, however many attempts have failed.
    public let maximumMilliseconds: Int

    public init(baseMilliseconds: Int, maximumMilliseconds: Int) {
        self.baseMilliseconds = baseMilliseconds
        self.maximumMilliseconds = maximumMilliseconds
    }

    /// "Equal jitter": at least half the exponential delay, so retries always back off, plus
    /// a random share of the other half. `random` (in `0..<1`) is a parameter so tests are
    /// deterministic; values outside that range are clamped.
    /// - Parameter attempt: the number of attempts made so far; values below 1 count as 1.
    public func delayMilliseconds(afterAttempt attempt: Int, random: Double) -> Int {
        let ceiling = ceilingMilliseconds(afterAttempt: attempt)
        let fraction = random >= 0 ? min(random, 1.0.nextDown) : 0  // also maps NaN to 0
        return ceiling / 2 + Int(fraction * Double(ceiling) / 2)
    }

    /// The same delay with a fresh random draw, for production use.
    public func delayMilliseconds(afterAttempt attempt: Int) -> Int {
        delayMilliseconds(afterAttempt: attempt, random: Double.random(in: 0..<1))
    }

    /// `min(maximum, base * 2^(attempt-1))`, saturating instead of overflowing.
    private func ceilingMilliseconds(afterAttempt attempt: Int) -> Int {
        let base = max(0, baseMilliseconds)
        let maximum = max(0, maximumMilliseconds)
        let exponent = min(max(attempt, 1) - 1, Int.bitWidth - 2)
        let (product, overflow) = base.multipliedReportingOverflow(by: 1 << exponent)
        return overflow ? maximum : min(maximum, product)
    }
}
