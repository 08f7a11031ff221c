import TextingSupport

/// A webhook signing secret as the Standard Webhooks specification writes it: `whsec_` and the
/// base64 of 32 random bytes. Shown to its owner once; the service keeps the bytes to sign.
public struct WebhookSecret: Sendable, Equatable {
    public static let prefix = "whsec_"
    public let bytes: [UInt8]

    public init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    /// A new secret of 32 random bytes.
    public static func generate() -> WebhookSecret {
        WebhookSecret(bytes: RandomBytes.make(32))
    }

    /// `whsec_…`, as the owner receives it and verifier libraries take it.
    public var text: String { Self.prefix + Base64.encode(bytes) }

    /// The stored form: the base64 of the bytes.
    public var stored: String { Base64.encode(bytes) }

    /// From the stored form or from `whsec_…`; nil for anything else.
    public init?(text: String) {
        let body = text.hasPrefix(Self.prefix) ? String(text.dropFirst(Self.prefix.count)) : text
        guard let bytes = Base64.decode(body), bytes.count >= 24 else { return nil }
        self.bytes = bytes
    }
}
