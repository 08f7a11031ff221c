import TextingDomain
import TextingPostgres

/// Providers' contracted rates, held by every sender together: a token bucket per provider
/// in `provider_rates` (migration 0011 says how it fills, and how a 429 slows it down). All of
/// its SQL is here.
public struct ProviderRateStore {
    private let connection: PostgresConnection

    public init(connection: PostgresConnection) {
        self.connection = connection
    }

    /// Takes up to `wanted` tokens in all from the providers with a rate among `providers`,
    /// in one statement (none when no provider has a rate).
    public func take(_ wanted: Int, from providers: [ProviderConfig]) throws(PostgresError) -> ProviderTokens {
        let limited = providers.filter { $0.tps != nil }
        guard !limited.isEmpty else { return ProviderTokens() }
        var left: [String: Int] = [:]
        var wait: [String: Int] = [:]
        for row in try connection.execute(
            Self.take,
            [
                PostgresArray.literal(limited.map(\.name)), PostgresArray.literal(limited.map { String($0.tps ?? 0) }),
                PostgresArray.literal(limited.map { String($0.weight) }), String(max(0, wanted)),
            ]
        ).rows {
            let provider = try row.string("provider")
            left[provider] = try row.int("taken")
            wait[provider] = try row.int("wait_ms")
        }
        return ProviderTokens(left: left, waitMilliseconds: wait)
    }

    /// Tokens a sender took and did not spend go back to their buckets (never past a full
    /// bucket), so a claim that found fewer jobs than it took tokens for costs no capacity.
    /// One statement per provider, each its own transaction: no lock is held across them.
    public func giveBack(_ unspent: [String: Int]) throws(PostgresError) {
        for (provider, tokens) in unspent.sorted(by: { $0.key < $1.key }) where tokens > 0 {
            try connection.execute(Self.giveBack, [provider, String(tokens)])
        }
    }

    /// The providers answered 429: each is given half its rate for a while (inside the
    /// caller's transaction, the one recording the outcomes). A provider without a rate is
    /// not slowed (it has no bucket).
    public func slowDown(_ providers: [String]) throws(PostgresError) {
        for provider in providers.sorted() {
            try connection.execute(Self.slowDown, [provider])
        }
    }

    /// A full bucket holds a tenth of a second of the rate given now (at least one token).
    static let giveBack = Query(
        "provider_rates.give_back",
        "UPDATE provider_rates SET tokens = least(greatest(1, rate * 0.1), tokens + $2::integer) WHERE provider = $1")

    static let take = Query(
        "provider_rates.take",
        "SELECT provider, taken, wait_ms FROM take_provider_tokens($1::text[], $2::float8[], $3::integer[], $4::integer)")
    static let slowDown = Query("provider_rates.slow_down", "SELECT slow_provider_down($1)")
}
