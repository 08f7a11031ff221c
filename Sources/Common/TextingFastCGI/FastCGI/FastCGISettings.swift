import TextingSupport

/// The setting every FastCGI program shares.
public enum FastCGISettings {
    public static let socket = SettingDescription(
        "TEXTING_FCGI_SOCKET", "unix socket to listen on; unset: the socket systemd passes on standard input", default: "")

    /// `TEXTING_FCGI_SOCKET`: the unix socket to listen on; unset under systemd socket
    /// activation, where the socket arrives on standard input.
    public static func socketPath(_ environment: EnvironmentReader) -> String? {
        environment.optional(socket.name)
    }
}
