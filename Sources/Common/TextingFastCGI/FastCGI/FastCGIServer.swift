import CFastCGI
import Glibc
import Synchronization
import TextingSupport

/// A threaded FastCGI responder. Each worker thread owns one `Context` (typically its own
/// database connection) for its whole life, so nothing that is not thread-safe is shared.
///
/// Listening: `FastCGIListener` (a unix socket, a TCP address serving only nginx's addresses,
/// or the socket systemd's socket activation (`StandardInput=socket`) hands over).
///
/// Requests: each connection is accepted here and screened (`FastCGIRecordScreen`) before
/// libfcgi reads it, since libfcgi aborts on some parameter lengths; `FastCGIParameters`
/// validates what the peer sent; nonsense is answered 400 without reaching the handler, and
/// a body shorter than `CONTENT_LENGTH` too.
///
/// Logging: one line per request on standard error, after its response is written
/// (`RequestLogLine`: request id, method, path, status, duration; never a body or a query).
///
/// Stopping: SIGTERM or SIGINT lets each worker finish the request in hand, then the process
/// exits; a second one meanwhile is ignored. The program must call `StopSignals.block()`
/// before it starts any thread (see there why). (libfcgi's own handling only sets a flag that threads blocked in `accept` never
/// see, so workers are woken with SIGUSR1 and accept with `FCGI_FAIL_ACCEPT_ON_INTR`.)
public struct FastCGIServer<Context>: Sendable {
    public let listener: FastCGIListener
    public let threadCount: Int
    /// Bodies longer than their path's limit are answered 413 without being read (nginx
    /// enforces the same).
    public let bodyLimits: BodyLimits
    /// Whether each request is logged (one line on standard error).
    public let logsRequests: Bool
    private let makeContext: @Sendable () -> Context
    private let handler: @Sendable (inout Context, HTTPServerRequest) throws -> HTTPServerResponse

    public init(
        listener: FastCGIListener, threadCount: Int, bodyLimits: BodyLimits = BodyLimits(), logsRequests: Bool = true,
        makeContext: @escaping @Sendable () -> Context,
        handler: @escaping @Sendable (inout Context, HTTPServerRequest) throws -> HTTPServerResponse
    ) {
        self.listener = listener
        self.threadCount = max(1, threadCount)
        self.bodyLimits = bodyLimits
        self.logsRequests = logsRequests
        self.makeContext = makeContext
        self.handler = handler
    }

    /// Serves until SIGTERM or SIGINT. Throws only when it cannot start listening.
    public func run() throws(ConfigurationError) {
        guard FCGX_Init() == 0 else {
            throw ConfigurationError(setting: "FastCGI", problem: "FCGX_Init failed")
        }
        let (listenDescriptor, network) = try listener.open()
        let state = ServerState()

        // Only this thread takes SIGTERM/SIGINT (through sigwait); workers inherit the mask.
        // The program's main blocked them already, before its own threads started; this
        // covers a caller that did not.
        StopSignals.block()
        Self.installWakeUpHandler()

        var threads: [pthread_t] = []
        for _ in 0..<threadCount {
            let server = self
            state.running.add(1, ordering: .sequentiallyConsistent)
            let thread = PosixThread.start {
                server.workerLoop(listenDescriptor: listenDescriptor, network: network, state: state)
                state.running.subtract(1, ordering: .sequentiallyConsistent)
            }
            threads.append(thread)
        }
        Log.info("serving FastCGI on \(listener.label) with \(threadCount) threads")

        let received = StopSignals.waitForFirst()
        state.stopping.store(true, ordering: .sequentiallyConsistent)
        Log.info("signal \(received): finishing requests in hand, then exiting")
        // A worker may be between its stop check and accept(); keep waking until all left.
        for _ in 0..<200 where state.running.load(ordering: .sequentiallyConsistent) > 0 {
            for thread in threads { pthread_kill(thread, SIGUSR1) }
            usleep(50_000)
        }
        listener.close()
    }

    private static func installWakeUpHandler() {
        var action = sigaction()
        action.__sigaction_handler.sa_handler = { _ in }
        action.sa_flags = 0  // no SA_RESTART: accept() must return EINTR
        sigemptyset(&action.sa_mask)
        sigaction(SIGUSR1, &action, nil)
    }

    private func workerLoop(listenDescriptor: Int32, network: Bool, state: ServerState) {
        var context = makeContext()
        let request = UnsafeMutablePointer<FCGX_Request>.allocate(capacity: 1)
        defer { request.deallocate() }
        // libfcgi gets no listening socket: after a request it could not read it would accept
        // the next connection itself, unscreened. Connections are accepted and screened here
        // and handed to it as an open descriptor (FCGX_Accept_r reads from an open ipcFd).
        guard FCGX_InitRequest(request, -1, Int32(FCGI_FAIL_ACCEPT_ON_INTR)) == 0 else {
            Log.error("FCGX_InitRequest failed")
            return
        }
        // Grows (to FastCGIRecordScreen.maximumBytes) only for a request with large headers.
        var peeked = [UInt8](repeating: 0, count: 16 * 1024)
        while !state.stopping.load(ordering: .sequentiallyConsistent) {
            // A connection libfcgi kept open (the peer asked FCGI_KEEP_CONN) is screened again.
            var descriptor = request.pointee.ipcFd
            request.pointee.ipcFd = -1
            if descriptor < 0 {
                guard let accepted = listener.accept(listenDescriptor, network: network, refused: state.refused) else {
                    // Woken to stop (EINTR), or accept failed (e.g. out of descriptors): do not spin.
                    if errno != EINTR, !state.stopping.load(ordering: .sequentiallyConsistent) { usleep(10_000) }
                    continue
                }
                guard accepted >= 0 else { continue }  // a peer the listener does not serve
                descriptor = accepted
            }
            guard Self.screen(descriptor, buffer: &peeked) else {
                close(descriptor)
                continue
            }
            request.pointee.ipcFd = descriptor
            // FCGX_Accept_r first finishes the previous request, which would close ipcFd
            // unless that request kept its connection.
            request.pointee.keepConnection = 1
            guard FCGX_Accept_r(request) >= 0 else { continue }
            if serve(request, context: &context) { malloc_trim(0) }
        }
        if request.pointee.ipcFd >= 0 { close(request.pointee.ipcFd) }
        request.pointee.ipcFd = -1
        FCGX_Free(request, 0)
    }

    /// Answers the request libfcgi accepted, finishes it and logs it. True when its body or
    /// its answer was large (`trimAfterBytes`): the caller then hands memory back.
    private func serve(_ request: UnsafeMutablePointer<FCGX_Request>, context: inout Context) -> Bool {
        let started = Self.monotonicMilliseconds()
        let (response, line) = respond(to: request, context: &context)
        write(response, to: request.pointee.out)
        FCGX_Finish_r(request)
        if logsRequests {
            Log.info(
                RequestLogLine(
                    requestID: line.requestID, method: line.method, path: line.path,
                    status: response.status, milliseconds: Self.monotonicMilliseconds() - started
                ).text)
        }
        return max(line.bodyBytes, response.body.count) >= Self.trimAfterBytes
    }

    /// After a request with a body or an answer this large, the worker calls `malloc_trim`,
    /// once the request's memory is freed (its answer already sent). glibc keeps what a thread
    /// freed in that thread's arena, so each of 32 workers kept the high-water mark of the
    /// largest batch it had parsed. MessagesFCGI on the test stack, 8 s after 5 s of load
    /// (wrk -c32): 100-message batches 33.4 MiB without the trim, 30.3 with it (26.5 before
    /// them); then 1,000-message ones 59.4 against 36.2 (the rest is live: libpq keeps each
    /// connection's buffers at the largest statement sent). A trim costs about 2 us when there
    /// is nothing to give back, tens when there is; a message, a read or a POST are far below
    /// the mark and never pay for one, a page of messages may.
    static var trimAfterBytes: Int { 8 * 1024 }

    /// How long a peer may take to send its parameters once connected (nginx sends them in
    /// one write).
    private static var screenMilliseconds: Int { 5000 }
    /// `POLLRDHUP` (Linux): the peer shut down its side.
    private static var pollPeerClosed: Int16 { 0x2000 }

    /// Whether the connection starts with a request libfcgi may read (`FastCGIRecordScreen`),
    /// judged on bytes peeked at (`recv` with `MSG_PEEK`) and so left for libfcgi. More bytes
    /// do not wake `poll` on a socket that is already readable, so an incomplete request is
    /// peeked at again after growing pauses (1 ms to 50 ms), until the peer shuts its side or
    /// `screenMilliseconds` pass.
    private static func screen(_ descriptor: Int32, buffer: inout [UInt8]) -> Bool {
        var waited = 0
        var pause: Int32 = 1
        var peerClosed = false
        while true {
            let received = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, Int32(MSG_PEEK)) }
            if received < 0, errno == EINTR { continue }
            guard received > 0 else { return false }  // closed before sending anything, or an error
            switch FastCGIRecordScreen.screen(Array(buffer[..<received])) {
            case .complete:
                return true
            case .refused(let reason):
                Log.warning("FastCGI connection closed unanswered: \(reason)")
                return false
            case .needMore:
                if received == buffer.count, buffer.count < FastCGIRecordScreen.maximumBytes {
                    buffer += [UInt8](repeating: 0, count: min(buffer.count, FastCGIRecordScreen.maximumBytes - buffer.count))
                    continue  // more is there already: look again at once
                }
                if peerClosed { return false }
                guard waited < screenMilliseconds else {
                    Log.warning("FastCGI connection closed unanswered: its parameters did not arrive within \(screenMilliseconds) ms")
                    return false
                }
                var entry = pollfd(fd: descriptor, events: pollPeerClosed, revents: 0)
                if poll(&entry, 1, pause) > 0, entry.revents & (pollPeerClosed | Int16(POLLHUP) | Int16(POLLERR)) != 0 {
                    peerClosed = true  // everything it sent is here: one more look decides
                }
                waited += Int(pause)
                pause = min(pause * 2, 50)
            }
        }
    }

    private static func monotonicMilliseconds() -> Double {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return Double(now.tv_sec) * 1000 + Double(now.tv_nsec) / 1_000_000
    }

    /// What the request log line says of a request: `-` for what its parameters did not
    /// validly say.
    private struct RequestSummary {
        var requestID: String?
        var method = "-"
        var path = "-"
        /// `CONTENT_LENGTH`, once the parameters were valid.
        var bodyBytes = 0
    }

    private func respond(to request: UnsafeMutablePointer<FCGX_Request>, context: inout Context) -> (HTTPServerResponse, RequestSummary) {
        let entries = Self.environmentEntries(request.pointee.envp)
        let parameters: FastCGIParameters
        do {
            parameters = try FastCGIParameters(entries, bodyLimits: bodyLimits)
        } catch {
            let requestID = FastCGIParameters.requestID(in: entries)
            return (.problem(error, requestID: requestID), RequestSummary(requestID: requestID))
        }
        let summary = RequestSummary(
            requestID: parameters.requestID, method: parameters.method, path: parameters.path, bodyBytes: parameters.contentLength)
        let body: [UInt8]
        do {
            body = try Self.readBody(length: parameters.contentLength, from: request.pointee.in)
        } catch {
            return (.problem(error, requestID: parameters.requestID), summary)
        }
        return (respond(to: parameters.request(body: body), context: &context), summary)
    }

    /// libfcgi's `envp` (a NULL-terminated array of `NAME=value` C strings) as bytes, at most
    /// one entry more than `FastCGIParameters` accepts.
    private static func environmentEntries(_ envp: FCGX_ParamArray?) -> [[UInt8]] {
        var entries: [[UInt8]] = []
        guard var cursor = envp else { return entries }
        while let entry = cursor.pointee, entries.count <= FastCGIParameters.maximumParameterCount {
            entries.append(Array(UnsafeBufferPointer(start: UnsafeRawPointer(entry).assumingMemoryBound(to: UInt8.self), count: strlen(entry))))
            cursor += 1
        }
        return entries
    }

    /// Exactly `length` bytes of the request's body (`FCGX_GetStr`); a body that ends sooner
    /// is a 400. `length` is at most its path's body limit, so it fits the C `int`.
    private static func readBody(length: Int, from stream: UnsafeMutablePointer<FCGX_Stream>?) throws(Problem) -> [UInt8] {
        guard length > 0 else { return [] }
        var body = [UInt8](repeating: 0, count: length)
        var received = 0
        while received < length {
            let read = body.withUnsafeMutableBytes { buffer in
                FCGX_GetStr(
                    buffer.baseAddress!.advanced(by: received).assumingMemoryBound(to: CChar.self),
                    Int32(clamping: length - received), stream)
            }
            guard read > 0 else { throw FastCGIParameters.truncatedBody(received: received, declared: length) }
            received += Int(read)
        }
        return body
    }

    private func respond(to httpRequest: HTTPServerRequest, context: inout Context) -> HTTPServerResponse {
        let requestID = httpRequest.requestID
        do {
            return try handler(&context, httpRequest)
        } catch let problem as Problem {
            return .problem(problem, requestID: requestID)
        } catch {
            Log.error("request \(requestID ?? "-") \(httpRequest.method) \(RequestLogLine.redactedPath(httpRequest.path)): \(error)")
            return .problem(
                Problem(.internalError, "Something went wrong on our side; nothing was changed. Quote the request id when reporting it."), requestID: requestID)
        }
    }

    private func write(_ response: HTTPServerResponse, to stream: UnsafeMutablePointer<FCGX_Stream>?) {
        var head = "Status: \(response.status) \(HTTPServerResponse.reasonPhrase(response.status))\r\n"
        for (name, value) in response.headers { head += "\(name): \(value)\r\n" }
        head += "Content-Length: \(response.body.count)\r\n\r\n"
        Self.put(Array(head.utf8), to: stream)
        Self.put(response.body, to: stream)
    }

    /// `FCGX_PutStr` in pieces that fit its `int` length; stops at the first error (the peer
    /// went away: nothing more can be said to it).
    private static func put(_ bytes: [UInt8], to stream: UnsafeMutablePointer<FCGX_Stream>?) {
        bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let piece = min(buffer.count - offset, 1 << 20)
                let written = FCGX_PutStr(buffer.baseAddress!.advanced(by: offset).assumingMemoryBound(to: CChar.self), Int32(piece), stream)
                guard written == Int32(piece) else { return }
                offset += piece
            }
        }
    }
}

/// What the main thread and the workers share while stopping.
private final class ServerState: Sendable {
    let stopping = Atomic<Bool>(false)
    let running = Atomic<Int>(0)
    let refusals = Atomic<Int>(0)
    let refusalLoggedAt = Atomic<Int>(0)

    /// Counts a connection from a peer the listener does not serve; says so in the log at
    /// most every ten seconds (a flood of them must not become a flood of lines).
    func refused(_ peer: IPAddress?) {
        let count = refusals.add(1, ordering: .relaxed).newValue
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        let last = refusalLoggedAt.load(ordering: .relaxed)
        guard now.tv_sec >= last + 10 || count == 1,
            refusalLoggedAt.compareExchange(expected: last, desired: now.tv_sec, ordering: .relaxed).exchanged
        else { return }
        Log.error("closed a FastCGI connection from \(peer.map(\.description) ?? "an unknown address"), not in TEXTING_FCGI_PEERS (\(count) so far)")
    }
}
