import TextingDomain
import TextingPostgres
import TextingStore
import TextingSupport

/// Which key a secret belongs to, remembered once it was seen active, so that
/// `POST /messages` and `GET /messages/{id}` skip a round trip per request. What is remembered
/// never goes stale: a key's hash and id never change. Only revocation does, and the
/// statements those requests run check it themselves (`MessageStore.accept`,
/// `MessageStore.read`), so a revoked key stores and reads nothing from the moment `textingctl
/// keys revoke` commits. Every other request looks the key up each time.
public final class APIKeyCache: Sendable {
    /// Keys remembered at most; past that the memory starts over (keys are few in practice).
    public let capacity: Int
    private let owners = ReadMostlyLock<[String: Int64]>([:])

    public init(capacity: Int = 10_000) {
        self.capacity = max(1, capacity)
    }

    /// The owner id of the key `secret`, nil for an unknown or revoked one (never remembered,
    /// so a key made a moment ago works at once).
    public func owner(secret: String, connection: PostgresConnection) throws(PostgresError) -> Int64? {
        let hash = APIKey.hash(secret)
        if let owner = owners.read({ $0[hash] }) { return owner }
        guard let owner = try APIKeyStore(connection: connection).authenticate(hash: hash) else { return nil }
        owners.write {
            if $0.count >= capacity { $0.removeAll(keepingCapacity: true) }
            $0[hash] = owner
        }
        return owner
    }
}
