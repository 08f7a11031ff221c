import TextingSupport

/// The settings every FastCGI program shares, declared once.
public enum FastCGISettings {
    /// `TEXTING_FCGI_SOCKET`: the unix socket to listen on; unset under systemd socket
    /// activation, where the socket arrives on standard input.
    public static let socket = Setting<String?>.optional(
        "TEXTING_FCGI_SOCKET", "unix socket a FastCGI process listens on; unset under systemd socket activation (the socket arrives on standard input)",
        example: "/run/texting/messages.sock", readBy: ["MessagesFCGI", "DeliveryFCGI", "AdminFCGI", "MockProvider"])

    /// `TEXTING_FCGI_LISTEN`: a TCP address to listen on instead, for nginx on other hosts.
    public static let listen = Setting<String?>.optional(
        "TEXTING_FCGI_LISTEN",
        "TCP address (IP literal:port) a FastCGI process listens on instead of a unix socket, for nginx on another host; needs TEXTING_FCGI_PEERS",
        example: "10.0.0.11:9001", readBy: ["MessagesFCGI", "DeliveryFCGI", "AdminFCGI"],
        notes: "FastCGI has no authentication: listen on a private network's address only, and list nginx's addresses in TEXTING_FCGI_PEERS."
    ).checked { text, invalid throws(ConfigurationError) -> FastCGIAddress? in
        guard let text else { return nil }
        guard let address = FastCGIAddress(text) else {
            throw invalid("must be an IP address and a port, such as 10.0.0.11:9001 or [fd00::11]:9001; got `\(text)`")
        }
        return address
    }

    /// `TEXTING_FCGI_PEERS`: the addresses a TCP listener serves.
    public static let peers = Setting<String?>.optional(
        "TEXTING_FCGI_PEERS",
        "comma-separated IP addresses whose TCP connections a FastCGI process serves (nginx's); any other is closed as it is accepted",
        example: "10.0.0.5,10.0.0.6", readBy: ["MessagesFCGI", "DeliveryFCGI", "AdminFCGI"]
    ).checked { text, invalid throws(ConfigurationError) -> Set<IPAddress> in
        var peers: Set<IPAddress> = []
        for item in (text ?? "").split(separator: ",") {
            let trimmed = item.trimmed
            guard let address = IPAddress(trimmed) else {
                throw invalid("must list IP addresses separated by commas, such as 10.0.0.5,10.0.0.6; `\(trimmed)` is not one")
            }
            peers.insert(address)
        }
        return peers
    }

    /// Where connections come from: TEXTING_FCGI_LISTEN, else TEXTING_FCGI_SOCKET, else the
    /// socket systemd passed on standard input; one of them, never two.
    public static func listener(_ environment: EnvironmentReader) throws(ConfigurationError) -> FastCGIListener {
        let allowed = try peers.read(environment)
        let path = try socket.read(environment)
        guard let address = try listen.read(environment) else {
            return FastCGIListener(source: path.map { .unixSocket(path: $0) } ?? .standardInput, peers: allowed)
        }
        guard path == nil else {
            throw ConfigurationError(setting: listen.name, problem: "cannot be set with \(socket.name): a process listens on one or the other")
        }
        guard !allowed.isEmpty else {
            throw ConfigurationError(setting: peers.name, problem: "is not set: with \(listen.name), list the addresses nginx connects from")
        }
        return FastCGIListener(source: .tcp(address), peers: allowed)
    }
}
