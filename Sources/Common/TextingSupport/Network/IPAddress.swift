/// An IPv4 or IPv6 address written as a literal (never a name: nothing is looked up), as
/// settings give them: what a FastCGI process listens on over TCP and the peers it serves.
public struct IPAddress: Hashable, Sendable, CustomStringConvertible {
    /// 4 bytes (IPv4) or 16 (IPv6), in network order. An IPv4-mapped IPv6 address
    /// (`::ffff:a.b.c.d`) is kept as its IPv4 address: the same peer whichever kind of socket
    /// it arrived on.
    public let bytes: [UInt8]

    /// From 4 or 16 bytes in network order; nil for any other count.
    public init?(bytes: [UInt8]) {
        switch bytes.count {
        case 4:
            self.bytes = bytes
        case 16:
            self.bytes = bytes.prefix(12).elementsEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF]) ? Array(bytes.suffix(4)) : bytes
        default:
            return nil
        }
    }

    /// `192.0.2.1`, `2001:db8::1` or `[2001:db8::1]`; nil for anything else (names, zone ids,
    /// leading zeros, spaces).
    public init?(_ text: String) {
        var host = Substring(text)
        if host.hasPrefix("["), host.hasSuffix("]") { host = host.dropFirst().dropLast() }
        if host.contains(":") {
            guard let bytes = NetworkDestinationRules.parseIPv6(String(host)) else { return nil }
            self.init(bytes: bytes)
        } else {
            guard let bytes = NetworkDestinationRules.parseDottedQuad(String(host)) else { return nil }
            self.init(bytes: bytes)
        }
    }

    public var isIPv4: Bool { bytes.count == 4 }

    public var description: String {
        isIPv4 ? bytes.map(String.init).joined(separator: ".") : NetworkDestinationRules.ipv6Text(bytes)
    }
}
