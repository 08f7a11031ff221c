import Glibc
import Synchronization

/// A tiny HTTP/1.1 server on 127.0.0.1 for client tests: POSIX sockets, an ephemeral port,
/// one thread per connection, keep-alive. It echoes the request back, so a test can see what
/// the client really sent:
/// - the response body is the request body;
/// - every request header comes back as `X-Echo-<lowercased name>`, plus `X-Echo-Method`
///   and `X-Echo-Path`;
/// - `X-Test-Status: 500` chooses the status (default 200), `X-Test-Delay-Ms: 2000` delays
///   the answer, `X-Test-Location` adds a `Location` header.
///
/// Call `stop()` at the end of every test: it closes the listening socket and every open
/// connection and joins all threads.
public final class TestHTTPServer: Sendable {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    public let port: UInt16
    private let listeningSocket: Int32
    private let state = Mutex(State())

    private struct State {
        var acceptedConnections = 0
        var openSockets: Set<Int32> = []
        var connectionThreads: [pthread_t] = []
        var acceptThread: pthread_t?
        var stopped = false
    }

    /// Largest request head or body accepted; bounds memory if a test sends garbage.
    private static let maximumRequestBytes = 16 << 20

    public init() throws {
        let (socket, port) = try Self.bindLoopbackSocket()
        guard listen(socket, 512) == 0 else {
            close(socket)
            throw Failure(description: "listen failed: errno \(errno)")
        }
        listeningSocket = socket
        self.port = port
        let acceptThread = Self.spawnThread { [self] in acceptConnections() }
        state.withLock { $0.acceptThread = acceptThread }
    }

    /// `http://127.0.0.1:<port><path>`.
    public func url(_ path: String = "/") -> String { "http://127.0.0.1:\(port)\(path)" }

    /// TCP connections accepted so far: with keep-alive, far fewer than requests.
    public var acceptedConnectionCount: Int { state.withLock { $0.acceptedConnections } }

    /// Stops accepting, closes every connection (waking threads blocked in recv or in a
    /// delay) and joins all threads. Safe to call twice.
    public func stop() {
        let acceptThread = state.withLock { state -> pthread_t? in
            guard !state.stopped else { return nil }
            state.stopped = true
            return state.acceptThread
        }
        guard let acceptThread else { return }
        // On Linux, shutdown wakes a thread blocked in accept on this socket.
        shutdown(listeningSocket, Int32(SHUT_RDWR))
        pthread_join(acceptThread, nil)
        close(listeningSocket)
        let connectionThreads = state.withLock { state in
            for socket in state.openSockets { shutdown(socket, Int32(SHUT_RDWR)) }
            defer { state.connectionThreads.removeAll() }
            return state.connectionThreads
        }
        for thread in connectionThreads { pthread_join(thread, nil) }
    }

    /// A port on 127.0.0.1 that nothing listens on: bound once to get a free number, then
    /// closed, so connecting to it is refused.
    public static func unusedPort() throws -> UInt16 {
        let (socket, port) = try bindLoopbackSocket()
        close(socket)
        return port
    }

    // MARK: - Connections

    private func acceptConnections() {
        while true {
            let socket = accept(listeningSocket, nil, nil)
            if socket < 0 {
                if errno == EINTR { continue }
                return  // stop() shut the listening socket down
            }
            let accepted = state.withLock { state -> Bool in
                guard !state.stopped else { return false }
                state.acceptedConnections += 1
                state.openSockets.insert(socket)
                state.connectionThreads.append(Self.spawnThread { [self] in serve(socket) })
                return true
            }
            if !accepted {
                close(socket)
                return
            }
        }
    }

    private func serve(_ socket: Int32) {
        // Remove and close under the lock, so stop() never shuts down a reused descriptor.
        defer {
            state.withLock { state in
                state.openSockets.remove(socket)
                close(socket)
            }
        }
        var pending: [UInt8] = []
        while let request = readRequest(from: socket, pending: &pending) {
            if let delay = request.header("x-test-delay-ms").flatMap({ Int32($0) }), delay > 0 {
                guard Self.waitQuietly(on: socket, milliseconds: delay) else { return }
            }
            guard Self.sendAll(response(to: request), on: socket) else { return }
            if request.header("connection")?.lowercased() == "close" { return }
        }
    }

    private struct ReceivedRequest {
        var method: String
        var path: String
        var headers: [(name: String, value: String)]
        var body: [UInt8]

        func header(_ name: String) -> String? { headers.first { $0.name == name }?.value }
    }

    private func readRequest(from socket: Int32, pending: inout [UInt8]) -> ReceivedRequest? {
        let terminator: [UInt8] = Array("\r\n\r\n".utf8)
        var headEnd: Int?
        var searchFrom = 0
        while headEnd == nil {
            if pending.count >= 4, searchFrom <= pending.count - 4 {
                for start in searchFrom...(pending.count - 4) where Array(pending[start..<start + 4]) == terminator {
                    headEnd = start
                    break
                }
                searchFrom = max(0, pending.count - 3)
            }
            if headEnd == nil {
                guard pending.count < Self.maximumRequestBytes, Self.receive(from: socket, into: &pending) else { return nil }
            }
        }
        guard let headEnd else { return nil }
        let headLines = String(decoding: pending[..<headEnd], as: UTF8.self).split(separator: "\r\n", omittingEmptySubsequences: false)
        let requestLine = headLines.first?.split(separator: " ") ?? []
        guard requestLine.count == 3 else { return nil }
        var headers: [(name: String, value: String)] = []
        for line in headLines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let value = line[line.index(after: colon)...].drop { $0 == " " }
            headers.append((String(line[..<colon]).lowercased(), String(value)))
        }
        let contentLength = headers.first { $0.name == "content-length" }.flatMap { Int($0.value) } ?? 0
        guard contentLength <= Self.maximumRequestBytes else { return nil }
        let bodyStart = headEnd + 4
        while pending.count < bodyStart + contentLength {
            guard Self.receive(from: socket, into: &pending) else { return nil }
        }
        let body = Array(pending[bodyStart..<bodyStart + contentLength])
        pending.removeFirst(bodyStart + contentLength)
        return ReceivedRequest(method: String(requestLine[0]), path: String(requestLine[1]), headers: headers, body: body)
    }

    private func response(to request: ReceivedRequest) -> [UInt8] {
        let status = request.header("x-test-status").flatMap { Int($0) } ?? 200
        var lines = [
            "HTTP/1.1 \(status) \(Self.reasonPhrase(status))",
            "Content-Type: application/octet-stream",
            "Content-Length: \(request.body.count)",
            "X-Echo-Method: \(request.method)",
            "X-Echo-Path: \(request.path)",
        ]
        for header in request.headers {
            lines.append("X-Echo-\(header.name): \(header.value)")
        }
        if let location = request.header("x-test-location") {
            lines.append("Location: \(location)")
        }
        return Array((lines.joined(separator: "\r\n") + "\r\n\r\n").utf8) + request.body
    }

    private static func reasonPhrase(_ status: Int) -> String {
        switch status {
        case 200: "OK"
        case 201: "Created"
        case 302: "Found"
        case 404: "Not Found"
        case 500: "Internal Server Error"
        default: "Status"
        }
    }

    // MARK: - POSIX helpers

    private static func receive(from socket: Int32, into pending: inout [UInt8]) -> Bool {
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = chunk.withUnsafeMutableBytes { recv(socket, $0.baseAddress, $0.count, 0) }
            if count > 0 {
                pending.append(contentsOf: chunk[..<count])
                return true
            }
            if count < 0 && errno == EINTR { continue }
            return false  // closed by the client, or by stop()
        }
    }

    private static func sendAll(_ bytes: [UInt8], on socket: Int32) -> Bool {
        var offset = 0
        while offset < bytes.count {
            // MSG_NOSIGNAL: a client that already hung up must not kill the test process.
            let sent = bytes[offset...].withUnsafeBytes { send(socket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if sent < 0 && errno == EINTR { continue }
            guard sent > 0 else { return false }
            offset += sent
        }
        return true
    }

    /// Sleeps for the delay unless the client hangs up (or stop() shuts the socket) first:
    /// true if the full delay passed quietly.
    private static func waitQuietly(on socket: Int32, milliseconds: Int32) -> Bool {
        var descriptor = pollfd(fd: socket, events: Int16(POLLIN), revents: 0)
        return Glibc.poll(&descriptor, 1, milliseconds) == 0
    }

    private static func bindLoopbackSocket() throws -> (socket: Int32, port: UInt16) {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else { throw Failure(description: "socket failed: errno \(errno)") }
        var reuse: Int32 = 1
        setsockopt(socket, SOL_SOCKET, SO_REUSEADDR, &reuse, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0  // the kernel picks a free port
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(socket, $0, &length) }
        }
        guard bound == 0, named == 0 else {
            close(socket)
            throw Failure(description: "bind to 127.0.0.1 failed: errno \(errno)")
        }
        return (socket, UInt16(bigEndian: address.sin_port))
    }

    private final class ThreadBody {
        let run: @Sendable () -> Void
        init(_ run: @escaping @Sendable () -> Void) { self.run = run }
    }

    /// Starts a joinable POSIX thread; the body box is retained for the thread and released
    /// by it.
    private static func spawnThread(_ body: @escaping @Sendable () -> Void) -> pthread_t {
        let context = Unmanaged.passRetained(ThreadBody(body)).toOpaque()
        var thread = pthread_t()
        let result = pthread_create(
            &thread, nil,
            { context in
                Unmanaged<ThreadBody>.fromOpaque(context!).takeRetainedValue().run()
                return nil
            }, context)
        precondition(result == 0, "pthread_create failed: \(result)")
        return thread
    }
}
