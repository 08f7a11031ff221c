/// Standard base64 with padding (RFC 4648 §4), as the Standard Webhooks specification writes
/// signatures and secrets.
public enum Base64 {
    public static func encode(_ bytes: [UInt8]) -> String {
        let url = Base64URL.encode(bytes)
        var text = String(url.map { $0 == "-" ? "+" : $0 == "_" ? "/" : $0 })
        while text.utf8.count % 4 != 0 { text.append("=") }
        return text
    }

    /// nil for anything that is not canonical padded base64.
    public static func decode(_ text: String) -> [UInt8]? {
        guard text.utf8.count % 4 == 0 else { return nil }
        var body = Substring(text)
        while body.hasSuffix("=") { body.removeLast() }
        guard text.utf8.count - body.utf8.count <= 2, !body.contains("-"), !body.contains("_") else { return nil }
        return Base64URL.decode(String(body.map { $0 == "+" ? "-" : $0 == "/" ? "_" : $0 }))
    }
}
