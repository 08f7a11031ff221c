/// Which IP addresses an outgoing request to a client-supplied URL may connect to (webhooks):
/// by default only public ones. Link-local (and so the cloud metadata address
/// 169.254.169.254), multicast, unspecified, reserved and documentation ranges are always
/// refused; loopback and private ranges only when allowed (receivers on the operator's own
/// network, development and tests), public ones unless refused (development and tests, where
/// nothing may leave the machine). IPv6 addresses that embed an IPv4 one (IPv4-mapped, NAT64,
/// 6to4) are judged by it.
public struct NetworkDestinationRules: Sendable, Equatable {
    /// 127.0.0.0/8 and ::1.
    public var allowLoopback: Bool
    /// 10/8, 172.16/12, 192.168/16, 100.64/10 (carrier-grade NAT) and fc00::/7 (unique local).
    public var allowPrivate: Bool
    /// Every other address, and host names other than `localhost` (a name would need a DNS
    /// lookup, which leaves the machine).
    public var allowPublic: Bool

    public init(allowLoopback: Bool = false, allowPrivate: Bool = false, allowPublic: Bool = true) {
        self.allowLoopback = allowLoopback
        self.allowPrivate = allowPrivate
        self.allowPublic = allowPublic
    }

    /// Public addresses only: production.
    public static let publicOnly = NetworkDestinationRules()
    /// Public, private and loopback addresses: receivers on the operator's own network too.
    public static let privateToo = NetworkDestinationRules(allowLoopback: true, allowPrivate: true)
    /// This machine only (127/8, ::1, `localhost`): development and tests.
    public static let localOnly = NetworkDestinationRules(allowLoopback: true, allowPrivate: false, allowPublic: false)

    private func publicRefusal(_ text: String) -> String? {
        allowPublic ? nil : "public address \(text) (only this machine's addresses are allowed here)"
    }

    /// nil when an IPv4 address (4 bytes, network order) may be connected to, else why not,
    /// e.g. "loopback address 127.0.0.1".
    public func refusal(ipv4 b: [UInt8]) -> String? {
        guard b.count == 4 else { return "malformed IPv4 address" }
        let text = b.map(String.init).joined(separator: ".")
        func within(_ prefix: [UInt8], _ bits: Int) -> Bool { Self.matches(b, prefix, bits) }
        if within([127], 8) { return allowLoopback ? nil : "loopback address \(text)" }
        if within([10], 8) || within([172, 16], 12) || within([192, 168], 16) || within([100, 64], 10) {
            return allowPrivate ? nil : "private address \(text)"
        }
        if within([169, 254], 16) { return "link-local address \(text) (cloud metadata lives there)" }
        if within([0], 8) { return "unspecified address \(text)" }
        if within([224], 4) { return "multicast address \(text)" }
        if within([240], 4) { return "reserved address \(text)" }
        if within([192, 0, 0], 24) || within([198, 18], 15) || within([192, 0, 2], 24) || within([198, 51, 100], 24) || within([203, 0, 113], 24) {
            return "special-purpose address \(text)"
        }
        return publicRefusal(text)
    }

    /// The same for an IPv6 address (16 bytes).
    public func refusal(ipv6 b: [UInt8]) -> String? {
        guard b.count == 16 else { return "malformed IPv6 address" }
        let text = Self.ipv6Text(b)
        func within(_ prefix: [UInt8], _ bits: Int) -> Bool { Self.matches(b, prefix, bits) }
        // Embedded IPv4: ::ffff:a.b.c.d (mapped), 64:ff9b::/96 (NAT64), 2002::/16 (6to4).
        if within([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF], 96) { return refusal(ipv4: Array(b[12..<16])).map { "\($0) (as \(text))" } }
        if within([0, 0x64, 0xFF, 0x9B, 0, 0, 0, 0, 0, 0, 0, 0], 96) { return refusal(ipv4: Array(b[12..<16])).map { "\($0) (as \(text))" } }
        if within([0x20, 0x02], 16) { return refusal(ipv4: Array(b[2..<6])).map { "\($0) (as \(text))" } }
        if b == [UInt8](repeating: 0, count: 15) + [1] { return allowLoopback ? nil : "loopback address \(text)" }
        if b.allSatisfy({ $0 == 0 }) { return "unspecified address \(text)" }
        if within([0xFC], 7) { return allowPrivate ? nil : "private address \(text)" }
        if within([0xFE, 0x80], 10) { return "link-local address \(text)" }
        if within([0xFF], 8) { return "multicast address \(text)" }
        if within([0x20, 0x01, 0x0D, 0xB8], 32) || within([0x01, 0, 0, 0, 0, 0, 0, 0], 64) { return "special-purpose address \(text)" }
        if within([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], 96) { return "IPv4-compatible address \(text)" }
        return publicRefusal(text)
    }

    /// For a URL's host: an IP literal's refusal (dotted IPv4, or IPv6 with or without
    /// brackets); `localhost` and `*.localhost` count as loopback; a numeric host that is not
    /// a plain dotted quad (`2130706433`, `0x7f.1`, `127.1`) is refused, since resolvers read
    /// such spellings as IPv4 addresses. nil for a host name or an allowed address: a name is
    /// judged when the connection is made, for every address it resolves to. Without public
    /// addresses no name but `localhost` is allowed.
    public func refusal(host raw: String) -> String? {
        var host = raw.lowercased()
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        while host.hasSuffix(".") { host.removeLast() }
        if host == "localhost" { return allowLoopback ? nil : "loopback host name \(raw)" }
        // Resolvers send these to DNS (only `localhost` is in /etc/hosts).
        if host.hasSuffix(".localhost") { return allowLoopback && allowPublic ? nil : "loopback host name \(raw)" }
        if host.contains(":") {
            guard !host.contains("%") else { return "IPv6 zone ids are not allowed (\(raw))" }
            guard let bytes = Self.parseIPv6(host) else { return "malformed IPv6 address \(raw)" }
            return refusal(ipv6: bytes)
        }
        if let bytes = Self.parseDottedQuad(host) { return refusal(ipv4: bytes) }
        let numericLooking = !host.isEmpty && host.allSatisfy { $0.isHexDigit || $0 == "." || $0 == "x" }
        let lastLabel = host.split(separator: ".").last.map(String.init) ?? host
        if numericLooking && (lastLabel.first?.isNumber == true) { return "ambiguous numeric host \(raw)" }
        return allowPublic ? nil : "host name \(raw) (only this machine is allowed here: 127.0.0.1, [::1] or localhost)"
    }

    private static func matches(_ address: [UInt8], _ prefix: [UInt8], _ bits: Int) -> Bool {
        var remaining = bits
        for (index, byte) in prefix.enumerated() where remaining > 0 {
            let take = min(8, remaining)
            let mask: UInt8 = take == 8 ? 0xFF : ~(0xFF >> UInt8(take))
            if address[index] & mask != byte & mask { return false }
            remaining -= take
        }
        return true
    }

    /// Four decimal numbers 0-255 without leading zeros, or nil.
    static func parseDottedQuad(_ text: String) -> [UInt8]? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var bytes: [UInt8] = []
        for part in parts {
            guard !part.isEmpty, part.count <= 3, part.allSatisfy(\.isASCII), part.allSatisfy(\.isNumber), part == "0" || !part.hasPrefix("0"),
                let value = UInt8(part)
            else { return nil }
            bytes.append(value)
        }
        return bytes
    }

    /// RFC 4291 text (with `::` and an optional dotted IPv4 tail), or nil.
    static func parseIPv6(_ text: String) -> [UInt8]? {
        var halves = [text]
        if let gap = text.firstRange(of: "::") {
            halves = [String(text[..<gap.lowerBound]), String(text[gap.upperBound...])]
            guard halves[1].firstRange(of: "::") == nil else { return nil }
        }
        func groups(_ part: String, allowIPv4Tail: Bool) -> [UInt16]? {
            if part.isEmpty { return [] }
            var result: [UInt16] = []
            let pieces = part.split(separator: ":", omittingEmptySubsequences: false)
            for (index, piece) in pieces.enumerated() {
                if index == pieces.count - 1, allowIPv4Tail, piece.contains(".") {
                    guard let v4 = parseDottedQuad(String(piece)) else { return nil }
                    result += [UInt16(v4[0]) << 8 | UInt16(v4[1]), UInt16(v4[2]) << 8 | UInt16(v4[3])]
                    continue
                }
                guard (1...4).contains(piece.count), piece.allSatisfy(\.isHexDigit), let value = UInt16(piece, radix: 16) else { return nil }
                result.append(value)
            }
            return result
        }
        var all: [UInt16]
        if halves.count == 2 {
            guard let head = groups(halves[0], allowIPv4Tail: false), let tail = groups(halves[1], allowIPv4Tail: true), head.count + tail.count <= 7
            else { return nil }
            all = head + [UInt16](repeating: 0, count: 8 - head.count - tail.count) + tail
        } else {
            guard let only = groups(halves[0], allowIPv4Tail: true), only.count == 8 else { return nil }
            all = only
        }
        return all.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] }
    }

    static func ipv6Text(_ b: [UInt8]) -> String {
        stride(from: 0, to: 16, by: 2).map { String(UInt16(b[$0]) << 8 | UInt16(b[$0 + 1]), radix: 16) }.joined(separator: ":")
    }
}
