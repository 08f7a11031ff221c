import TextingSupport

/// An operator's token for the console (`txo_` and 43 base64url characters), made by
/// `textingctl operators create` and shown once. Stored and looked up as its hash, the way API
/// keys are (`APIKey.hash`); the distinct scheme keeps an API key from ever being one.
public enum OperatorToken {
    public static let scheme = "txo_"

    /// A new token: 256 random bits.
    public static func generate() -> String {
        scheme + Base64URL.encode(RandomBytes.make(32))
    }

    /// The stored form: SHA-256, hex, as for API keys.
    public static func hash(_ token: String) -> String {
        APIKey.hash(token)
    }

    /// What a list shows to tell tokens apart: the scheme and 6 characters.
    public static func prefix(of token: String) -> String {
        String(token.prefix(scheme.count + 6))
    }

    /// Whether `text` has a token's shape: the scheme, then 43 base64url characters.
    public static func isWellFormed(_ text: String) -> Bool {
        guard text.hasPrefix(scheme), text.utf8.count == scheme.utf8.count + 43 else { return false }
        return text.utf8.dropFirst(scheme.utf8.count).allSatisfy { byte in
            (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
                || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_")
        }
    }
}
