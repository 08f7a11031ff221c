import TextingStore

/// The console's session cookie: its name, how it is set and cleared, and how it is read back
/// from a `Cookie` header.
enum ConsoleCookie {
    static let name = "texting_admin"

    /// Sent by the browser to /admin only, never to scripts (HttpOnly), never over plain http
    /// (Secure; browsers treat 127.0.0.1 and localhost as secure for this), never with a
    /// request another site started (SameSite=Strict), and forgotten when the session ends.
    static func set(_ token: String) -> String {
        "\(name)=\(token); Path=/admin; Max-Age=\(OperatorSessionStore.lifetimeSeconds); HttpOnly; Secure; SameSite=Strict"
    }

    /// Tells the browser to forget the cookie (signing out).
    static let clear = "\(name)=; Path=/admin; Max-Age=0; HttpOnly; Secure; SameSite=Strict"

    /// The session token in a `Cookie` header (`a=1; texting_admin=…`), if there is one.
    static func token(in header: String?) -> String? {
        guard let header else { return nil }
        for pair in header.split(separator: ";") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2, parts[0].trimmed == name else { continue }
            let value = parts[1].trimmed
            return value.isEmpty ? nil : value
        }
        return nil
    }
}
