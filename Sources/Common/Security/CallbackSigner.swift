/// Signs the callback URL handed to a provider, and checks it when the provider calls back.
/// Without it anybody could POST `invalid` and deactivate any phone number.
///
/// The URL names our message id (`mid`), so a callback that overtakes the sender's record of
/// the provider's id still finds its message, and the time it was issued (`ts`), so an old
/// URL stops working after `maximumAgeSeconds`. `sig` is HMAC-SHA-256 over both.
public struct CallbackSigner: Sendable {
    private let secret: [UInt8]
    public let maximumAgeSeconds: Int

    public static let minimumSecretLength = 32

    public init(secret: String, maximumAgeSeconds: Int) {
        self.secret = Array(secret.utf8)
        self.maximumAgeSeconds = maximumAgeSeconds
    }

    /// The query string (without `?`) for message `messageID` issued at `issuedAt` (Unix seconds).
    public func signedQuery(messageID: String, issuedAt: Int) -> String {
        "mid=\(messageID)&ts=\(issuedAt)&sig=\(signature(messageID: messageID, issuedAt: issuedAt))"
    }

    /// The message id a callback's query names, if its signature is genuine and not stale.
    public func verify(parameters: [String: String], now: Int) -> String? {
        guard let messageID = parameters["mid"], let issuedText = parameters["ts"], let issuedAt = Int(issuedText),
              let signature = parameters["sig"] else { return nil }
        // Allow a little clock skew between hosts, but no URL from the far future. Compared
        // without subtracting from `issuedAt`, which a caller controls and could overflow.
        guard issuedAt <= now + 300, issuedAt >= now - maximumAgeSeconds else { return nil }
        let expected = self.signature(messageID: messageID, issuedAt: issuedAt)
        return Digest.constantTimeEqual(Array(expected.utf8), Array(signature.lowercased().utf8)) ? messageID : nil
    }

    private func signature(messageID: String, issuedAt: Int) -> String {
        Digest.hex(Digest.hmacSHA256(key: secret, data: Array("v1|\(messageID)|\(issuedAt)".utf8)))
    }
}
