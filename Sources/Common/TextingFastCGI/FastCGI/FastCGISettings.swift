import TextingSupport

/// The setting every FastCGI program shares, declared once.
public enum FastCGISettings {
    /// `TEXTING_FCGI_SOCKET`: the unix socket to listen on; unset under systemd socket
    /// activation, where the socket arrives on standard input.
    public static let socket = Setting<String?>.optional(
        "TEXTING_FCGI_SOCKET", "unix socket a FastCGI process listens on; unset under systemd socket activation (the socket arrives on standard input)",
        example: "/run/texting/messages.sock", readBy: ["MessagesFCGI", "DeliveryFCGI", "MockProvider"])
}
