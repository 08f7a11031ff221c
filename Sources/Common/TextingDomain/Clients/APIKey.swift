import TextingSupport

/// A client's API key as the service knows it: never the key itself, only its hash.
public struct APIKey: Sendable, Equatable {
    /// The database id, which owns messages.
    public let id: Int64
    public let publicID: String
    public let name: String
    public let prefix: String
    public let createdAt: String
    public let revokedAt: String?

    public init(id: Int64, publicID: String, name: String, prefix: String, createdAt: String, revokedAt: String?) {
        self.id = id
        self.publicID = publicID
        self.name = name
        self.prefix = prefix
        self.createdAt = createdAt
        self.revokedAt = revokedAt
    }

    /// Keys look like `txk_` followed by 43 base64url characters (256 random bits).
    public static let scheme = "txk_"

    /// A new random key, returned once to the person who asked for it.
    public static func generateSecret() -> String {
        scheme + Base64URL.encode(RandomBytes.make(32))
    }

    /// The stored form of a key: SHA-256, hex. A 256-bit random key needs no slow hash.
    public static func hash(_ secret: String) -> String {
        Digest.sha256Hex(Array(secret.utf8))
    }
}
