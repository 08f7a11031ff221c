import CFastCGI
import Glibc
import TextingSupport

/// Where a FastCGI process takes its connections from, and from whom.
///
/// A unix socket (nginx on the same host), a TCP address (nginx on other hosts: several app
/// hosts behind one edge), or the socket systemd passed on standard input (socket activation,
/// either kind). FastCGI has no authentication, and whoever can connect writes the request's
/// parameters (`REMOTE_ADDR`, the headers) and bypasses nginx's limits, so a TCP listener
/// serves only the peers listed (nginx's addresses) and closes every other connection as
/// soon as it is accepted.
public struct FastCGIListener: Sendable, Equatable {
    public enum Source: Sendable, Equatable {
        case unixSocket(path: String)
        case tcp(FastCGIAddress)
        case standardInput
    }

    public let source: Source
    /// The addresses a TCP connection is served from (unix socket connections: any).
    public let peers: Set<IPAddress>

    public init(source: Source, peers: Set<IPAddress> = []) {
        self.source = source
        self.peers = peers
    }

    /// A unix socket at `path`, or standard input when there is none.
    public static func unixSocket(_ path: String?) -> FastCGIListener {
        FastCGIListener(source: path.map { .unixSocket(path: $0) } ?? .standardInput)
    }

    /// What the start-up log line names.
    public var label: String {
        switch source {
        case .unixSocket(let path): return path
        case .tcp(let address): return "\(address) (peers: \(peers.map(\.description).sorted().joined(separator: ", ")))"
        case .standardInput: return "the socket passed on standard input"
        }
    }

    /// The listening descriptor, and whether its connections come over a network (their peer
    /// is then checked).
    func open() throws(ConfigurationError) -> (descriptor: Int32, network: Bool) {
        switch source {
        case .standardInput:
            let network = Self.isNetworkSocket(0)
            if network, peers.isEmpty {
                throw ConfigurationError(
                    setting: FastCGISettings.peers.name,
                    problem: "is not set, and the socket passed on standard input is a TCP socket: list the addresses nginx connects from")
            }
            return (0, network)
        case .unixSocket(let path):
            unlink(path)
            let descriptor = FCGX_OpenSocket(path, 1024)
            guard descriptor >= 0 else {
                throw ConfigurationError(setting: FastCGISettings.socket.name, problem: "cannot listen on \(path): \(String(cString: strerror(errno)))")
            }
            return (descriptor, false)
        case .tcp(let address):
            do {
                return (try Self.listen(on: address), true)
            } catch {
                throw ConfigurationError(setting: FastCGISettings.listen.name, problem: "cannot listen on \(address): \(error.text)")
            }
        }
    }

    /// Removes what `open` made on the file system.
    func close() {
        if case .unixSocket(let path) = source { unlink(path) }
    }

    /// Accepts one connection; nil when accept failed (errno says why). A network peer not
    /// among `peers` is closed here and reported through `refused`.
    func accept(_ listening: Int32, network: Bool, refused: (IPAddress?) -> Void) -> Int32? {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let descriptor = withUnsafeMutablePointer(to: &storage) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.accept(listening, $0, &length) }
        }
        guard descriptor >= 0 else { return nil }
        guard network else { return descriptor }
        let peer = Self.address(storage)
        guard let peer, peers.contains(peer) else {
            Glibc.close(descriptor)
            refused(peer)
            return -1
        }
        // libfcgi writes a response in several records: without this, Nagle's algorithm and
        // the peer's delayed ACK hold the last of them for up to 40 ms.
        var one: Int32 = 1
        setsockopt(descriptor, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        return descriptor
    }

    private struct SocketError: Error {
        let text: String
        init(_ call: String) { text = "\(call): \(String(cString: strerror(errno)))" }
    }

    private static func listen(on address: FastCGIAddress) throws(SocketError) -> Int32 {
        let v4 = address.host.isIPv4
        let descriptor = socket(v4 ? AF_INET : AF_INET6, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { throw SocketError("socket") }
        var one: Int32 = 1
        let size = socklen_t(MemoryLayout<Int32>.size)
        setsockopt(descriptor, SOL_SOCKET, SO_REUSEADDR, &one, size)
        var bound: Int32
        if v4 {
            var socketAddress = sockaddr_in()
            socketAddress.sin_family = sa_family_t(AF_INET)
            socketAddress.sin_port = address.port.bigEndian
            withUnsafeMutableBytes(of: &socketAddress.sin_addr) { $0.copyBytes(from: address.host.bytes) }
            bound = withUnsafePointer(to: &socketAddress) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
        } else {
            setsockopt(descriptor, Int32(IPPROTO_IPV6), IPV6_V6ONLY, &one, size)
            var socketAddress = sockaddr_in6()
            socketAddress.sin6_family = sa_family_t(AF_INET6)
            socketAddress.sin6_port = address.port.bigEndian
            withUnsafeMutableBytes(of: &socketAddress.sin6_addr) { $0.copyBytes(from: address.host.bytes) }
            bound = withUnsafePointer(to: &socketAddress) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) }
            }
        }
        guard bound == 0 else {
            let error = SocketError("bind")
            Glibc.close(descriptor)
            throw error
        }
        guard Glibc.listen(descriptor, 1024) == 0 else {
            let error = SocketError("listen")
            Glibc.close(descriptor)
            throw error
        }
        return descriptor
    }

    private static func isNetworkSocket(_ descriptor: Int32) -> Bool {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let result = withUnsafeMutablePointer(to: &storage) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        return result == 0 && (Int32(storage.ss_family) == AF_INET || Int32(storage.ss_family) == AF_INET6)
    }

    private static func address(_ storage: sockaddr_storage) -> IPAddress? {
        switch Int32(storage.ss_family) {
        case AF_INET:
            let socketAddress = withUnsafeBytes(of: storage) { $0.load(as: sockaddr_in.self) }
            return IPAddress(bytes: withUnsafeBytes(of: socketAddress.sin_addr) { Array($0) })
        case AF_INET6:
            let socketAddress = withUnsafeBytes(of: storage) { $0.load(as: sockaddr_in6.self) }
            return IPAddress(bytes: withUnsafeBytes(of: socketAddress.sin6_addr) { Array($0) })
        default:
            return nil
        }
    }
}

/// A TCP address to listen on: an IP address literal and a port, `10.0.0.11:9001` or
/// `[fd00::11]:9001`.
public struct FastCGIAddress: Sendable, Equatable, CustomStringConvertible {
    public let host: IPAddress
    public let port: UInt16

    public init?(_ text: String) {
        guard let colon = text.lastIndex(of: ":") else { return nil }
        let hostText = text[..<colon]
        let portText = text[text.index(after: colon)...]
        // An IPv6 address is written in brackets, so that its last colon is not the port's.
        guard hostText.hasPrefix("[") == hostText.contains(":"),
            !portText.isEmpty, portText.count <= 5, portText.allSatisfy({ $0.isASCII && $0.isNumber }),
            let port = UInt16(portText), port > 0, let host = IPAddress(String(hostText))
        else { return nil }
        self.host = host
        self.port = port
    }

    public var description: String { host.isIPv4 ? "\(host):\(port)" : "[\(host)]:\(port)" }
}
