import TextingFastCGI
import TextingSupport

/// How the mock provider behaves; set at start from `MOCK_*` variables and changed at run
/// time with `POST /_mock/config`, so one test can make a provider fail without a restart.
public struct MockProviderSettings: Sendable, Equatable {
    /// Added to every `/send` answer.
    public var latencyMilliseconds = 0
    /// Share of sends answered 500 (0…1).
    public var failureRate = 0.0
    /// Share of sends answered 429 with `Retry-After: retryAfterSeconds` (0…1).
    public var rateLimitRate = 0.0
    /// Share of sends answered 400, a permanent rejection (0…1). The dice decide in this
    /// order: failure (500), then rate limit (429), then rejection (400); the shares add up.
    public var rejectRate = 0.0
    /// The contracted rate (sends per second): beyond it sends are answered 429
    /// (`MockRateLimit`); 0: no limit.
    public var tps = 0
    /// The `Retry-After` (seconds) of the 429 answers.
    public var retryAfterSeconds = 1
    /// Delay before the delivery callback; negative for no callback at all.
    public var callbackDelayMilliseconds = 200
    /// Relative weights of the statuses the callback reports, e.g. delivered 90, failed 5, invalid 5.
    public var callbackStatuses: [String: Int] = ["delivered": 100]
    /// Send the callback before answering `/send`, so it overtakes the sender's record of the id.
    public var callbackBeforeAnswer = false

    public init() {}

    public init(_ environment: EnvironmentReader) throws(ConfigurationError) {
        latencyMilliseconds = try MockSettings.latency.read(environment)
        failureRate = try MockSettings.failureRate.read(environment)
        rateLimitRate = try MockSettings.rateLimitRate.read(environment)
        rejectRate = try MockSettings.rejectRate.read(environment)
        tps = try MockSettings.tps.read(environment)
        retryAfterSeconds = try MockSettings.retryAfter.read(environment)
        callbackDelayMilliseconds = try MockSettings.callbackDelay.read(environment)
        callbackStatuses = try MockSettings.callbackStatuses.read(environment)
        callbackBeforeAnswer = try MockSettings.callbackEarly.read(environment)
    }

    static func parseStatuses(_ text: String) -> [String: Int]? {
        var statuses: [String: Int] = [:]
        for entry in text.split(separator: ",") {
            let parts = entry.split(separator: "=")
            guard parts.count == 2, let weight = Int(parts[1].trimmed), weight >= 0 else { return nil }
            statuses[parts[0].trimmed] = weight
        }
        return statuses.isEmpty ? nil : statuses
    }

    /// Applies the members of a `POST /_mock/config` body, all or none: unknown members and
    /// values out of range are an error and change nothing.
    public mutating func update(from json: [String: JSONValue]) throws(Problem) {
        var updated = self
        for (key, value) in json {
            switch (key, value) {
            case ("latency_ms", .number(let n)): updated.latencyMilliseconds = try Self.whole(n, key, 0...60_000)
            case ("failure_rate", .number(let n)): updated.failureRate = try Self.share(n, key)
            case ("rate_limit_rate", .number(let n)): updated.rateLimitRate = try Self.share(n, key)
            case ("reject_rate", .number(let n)): updated.rejectRate = try Self.share(n, key)
            case ("tps", .number(let n)): updated.tps = try Self.whole(n, key, 0...1_000_000)
            case ("retry_after_seconds", .number(let n)): updated.retryAfterSeconds = try Self.whole(n, key, 0...3600)
            case ("callback_delay_ms", .number(let n)): updated.callbackDelayMilliseconds = try Self.whole(n, key, -1...3_600_000)
            case ("callback_before_answer", .bool(let b)): updated.callbackBeforeAnswer = b
            case ("callback_statuses", .object(let members)):
                var statuses: [String: Int] = [:]
                for (status, weight) in members {
                    guard case .number(let n) = weight else { throw Problem(.wrongType, "callback_statuses weights are numbers", field: key) }
                    statuses[status] = try Self.whole(n, key, 0...1_000_000)
                }
                updated.callbackStatuses = statuses
            default:
                throw Problem(.unknownField, "unknown or mistyped setting `\(key)`", field: key)
            }
        }
        self = updated
    }

    private static func whole(_ value: Double, _ key: String, _ range: ClosedRange<Int>) throws(Problem) -> Int {
        guard value == value.rounded(), value >= Double(range.lowerBound), value <= Double(range.upperBound) else {
            throw Problem(.invalidParameter, "`\(key)` must be a whole number from \(range.lowerBound) to \(range.upperBound)", field: key)
        }
        return Int(value)
    }

    private static func share(_ value: Double, _ key: String) throws(Problem) -> Double {
        guard (0...1).contains(value) else { throw Problem(.invalidParameter, "`\(key)` must be from 0 to 1", field: key) }
        return value
    }

    public var json: JSONValue {
        [
            "latency_ms": .number(Double(latencyMilliseconds)),
            "failure_rate": .number(failureRate),
            "rate_limit_rate": .number(rateLimitRate),
            "reject_rate": .number(rejectRate),
            "tps": .number(Double(tps)),
            "retry_after_seconds": .number(Double(retryAfterSeconds)),
            "callback_delay_ms": .number(Double(callbackDelayMilliseconds)),
            "callback_before_answer": .bool(callbackBeforeAnswer),
            "callback_statuses": .object(callbackStatuses.mapValues { .number(Double($0)) }),
        ]
    }

    /// How the mock answers one send.
    enum Answer: Equatable {
        case failure, rateLimit, rejection, acceptance
    }

    /// The answer a roll of the dice (in `0..<1`) picks: failure (500), then rate limit (429),
    /// then rejection (400), each taking its share of the range in that order; the rest accepts.
    func answer(roll: Double) -> Answer {
        if roll < failureRate { return .failure }
        if roll < failureRate + rateLimitRate { return .rateLimit }
        if roll < failureRate + rateLimitRate + rejectRate { return .rejection }
        return .acceptance
    }

    /// A status drawn from the mix.
    func drawStatus() -> String {
        let total = callbackStatuses.values.reduce(0, +)
        guard total > 0 else { return "delivered" }
        var pick = Int.random(in: 0..<total)
        for status in callbackStatuses.keys.sorted() {
            pick -= callbackStatuses[status]!
            if pick < 0 { return status }
        }
        return "delivered"
    }
}
