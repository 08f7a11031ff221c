/// What an operator lets one API key send (`textingctl keys limits`): a rate, messages a
/// second with a burst (a token bucket: `burst` messages at once, refilled at `rate` a
/// second), and quotas of segments per UTC day and per calendar month (UTC). Each is
/// optional; a key with none of them has no limits but nginx's coarse per-key guard.
public struct KeyLimits: Sendable, Equatable {
    /// Messages a second; nil: no rate.
    public var rate: Double?
    /// Messages at once; set exactly when `rate` is.
    public var burst: Int?
    public var segmentsPerDay: Int?
    public var segmentsPerMonth: Int?

    public init(rate: Double? = nil, burst: Int? = nil, segmentsPerDay: Int? = nil, segmentsPerMonth: Int? = nil) {
        self.rate = rate
        self.burst = burst
        self.segmentsPerDay = segmentsPerDay
        self.segmentsPerMonth = segmentsPerMonth
    }

    public static let none = KeyLimits()

    /// The highest rate an operator may set: far above what one key can be sent at.
    public static let maximumRate = 100_000.0
    public static let maximumBurst = 1_000_000
    public static let maximumSegments = 1_000_000_000_000

    public var isEmpty: Bool { rate == nil && segmentsPerDay == nil && segmentsPerMonth == nil }

    /// A limit as an operator writes it on the command line.
    public enum Change: Sendable, Equatable {
        case keep
        case remove
        case set(Double)
    }

    /// These limits with the operator's changes applied: `--rate 50/s`, `--burst 200`,
    /// `--segments-per-day 10000`, `--segments-per-month 200000`, each also `none` to remove
    /// it. A rate without a burst gets a burst of one second's worth (at least 1); removing the
    /// rate removes its burst.
    public func applying(rate: Change, burst: Change, segmentsPerDay: Change, segmentsPerMonth: Change) throws(ValidationError) -> KeyLimits {
        var next = self
        switch rate {
        case .keep: break
        case .remove:
            next.rate = nil
            next.burst = nil
        case .set(let value): next.rate = value
        }
        switch burst {
        case .keep: break
        case .remove:
            throw ValidationError(.invalidParameter, "a rate needs its burst: remove the rate (`--rate none`) to remove both.", field: "--burst")
        case .set(let value):
            guard next.rate != nil else {
                throw ValidationError(.invalidParameter, "`--burst` goes with a rate: give `--rate N/s` too.", field: "--burst")
            }
            next.burst = Int(value)
        }
        if let rate = next.rate, next.burst == nil { next.burst = max(1, Int(rate.rounded(.up))) }
        next.segmentsPerDay = Self.apply(segmentsPerDay, to: self.segmentsPerDay)
        next.segmentsPerMonth = Self.apply(segmentsPerMonth, to: self.segmentsPerMonth)
        return next
    }

    private static func apply(_ change: Change, to current: Int?) -> Int? {
        switch change {
        case .keep: current
        case .remove: nil
        case .set(let value): Int(value)
        }
    }

    /// `--rate`'s value: `50/s`, `50` (a second), `3000/min` or `none`.
    public static func parseRate(_ text: String) throws(ValidationError) -> Change {
        if text == "none" { return .remove }
        var number = Substring(text)
        var seconds = 1.0
        if let slash = text.firstIndex(of: "/") {
            number = text[..<slash]
            switch text[text.index(after: slash)...] {
            case "s": seconds = 1
            case "min": seconds = 60
            case "h": seconds = 3600
            default:
                throw ValidationError(.invalidParameter, "`--rate` is messages per `s`, `min` or `h`, e.g. 50/s; got `\(text.prefix(40))`.", field: "--rate")
            }
        }
        guard let count = Double(number), count.isFinite, count > 0, count / seconds <= maximumRate else {
            throw ValidationError(
                .invalidParameter, "`--rate` must be a positive number of messages, at most \(Int(maximumRate))/s, e.g. 50/s; got `\(text.prefix(40))`.",
                field: "--rate")
        }
        return .set(count / seconds)
    }

    /// A whole-number option's value (`--burst`, `--segments-per-day`, `--segments-per-month`)
    /// or `none`.
    public static func parseCount(_ text: String, option: String, minimum: Int, maximum: Int) throws(ValidationError) -> Change {
        if text == "none" { return .remove }
        guard let count = Int(text), count >= minimum, count <= maximum else {
            throw ValidationError(
                .invalidParameter, "`\(option)` must be a whole number from \(minimum) to \(maximum) or `none`; got `\(text.prefix(40))`.", field: option)
        }
        return .set(Double(count))
    }
}
