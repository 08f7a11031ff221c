import CFastCGI
import Glibc
import Synchronization

/// A threaded FastCGI responder. Each worker thread owns one `Context` (typically its own
/// database connection) for its whole life, so nothing that is not thread-safe is shared.
///
/// Listening: a unix socket path, or none to take the listening socket from standard input
/// as systemd's socket activation (`StandardInput=socket`) hands it over.
///
/// Logging: one line per request on standard error, after its response is written
/// (`RequestLogLine`: request id, method, path, status, duration; never a body or a query).
///
/// Stopping: SIGTERM or SIGINT lets each worker finish the request in hand, then the process
/// exits. (libfcgi's own handling only sets a flag that threads blocked in `accept` never
/// see, so workers are woken with SIGUSR1 and accept with `FCGI_FAIL_ACCEPT_ON_INTR`.)
public struct FastCGIServer<Context>: Sendable {
    public let socketPath: String?
    public let threadCount: Int
    /// Bodies longer than this are answered 413 without being read (nginx enforces the same).
    public let maximumBodyBytes: Int
    /// Whether each request is logged (one line on standard error).
    public let logsRequests: Bool
    private let makeContext: @Sendable () -> Context
    private let handler: @Sendable (inout Context, HTTPServerRequest) throws -> HTTPServerResponse

    public init(socketPath: String?, threadCount: Int, maximumBodyBytes: Int = 16 * 1024, logsRequests: Bool = true,
                makeContext: @escaping @Sendable () -> Context,
                handler: @escaping @Sendable (inout Context, HTTPServerRequest) throws -> HTTPServerResponse) {
        self.socketPath = socketPath
        self.threadCount = max(1, threadCount)
        self.maximumBodyBytes = maximumBodyBytes
        self.logsRequests = logsRequests
        self.makeContext = makeContext
        self.handler = handler
    }

    /// Serves until SIGTERM or SIGINT. Throws only when it cannot start listening.
    public func run() throws(ConfigurationError) {
        guard FCGX_Init() == 0 else {
            throw ConfigurationError(setting: "FastCGI", problem: "FCGX_Init failed")
        }
        let listenDescriptor = try openListener()
        let state = ServerState()

        // Only the main thread takes SIGTERM/SIGINT (through sigwait); workers inherit the mask.
        var stopSignals = sigset_t()
        sigemptyset(&stopSignals)
        sigaddset(&stopSignals, SIGTERM)
        sigaddset(&stopSignals, SIGINT)
        pthread_sigmask(SIG_BLOCK, &stopSignals, nil)
        Self.installWakeUpHandler()

        var threads: [pthread_t] = []
        for _ in 0..<threadCount {
            let server = self
            state.running.add(1, ordering: .sequentiallyConsistent)
            let thread = Thread.start {
                server.workerLoop(listenDescriptor: listenDescriptor, state: state)
                state.running.subtract(1, ordering: .sequentiallyConsistent)
            }
            threads.append(thread)
        }
        Log.info("serving FastCGI on \(socketPath ?? "the socket passed on standard input") with \(threadCount) threads")

        var received: Int32 = 0
        sigwait(&stopSignals, &received)
        state.stopping.store(true, ordering: .sequentiallyConsistent)
        Log.info("signal \(received): finishing requests in hand, then exiting")
        // A worker may be between its stop check and accept(); keep waking until all left.
        for _ in 0..<200 where state.running.load(ordering: .sequentiallyConsistent) > 0 {
            for thread in threads { pthread_kill(thread, SIGUSR1) }
            usleep(50_000)
        }
        if let socketPath { unlink(socketPath) }
    }

    private func openListener() throws(ConfigurationError) -> Int32 {
        guard let socketPath else { return 0 }
        unlink(socketPath)
        let descriptor = FCGX_OpenSocket(socketPath, 1024)
        guard descriptor >= 0 else {
            throw ConfigurationError(setting: "TEXTING_FCGI_SOCKET", problem: "cannot listen on \(socketPath): \(String(cString: strerror(errno)))")
        }
        return descriptor
    }

    private static func installWakeUpHandler() {
        var action = sigaction()
        action.__sigaction_handler.sa_handler = { _ in }
        action.sa_flags = 0  // no SA_RESTART: accept() must return EINTR
        sigemptyset(&action.sa_mask)
        sigaction(SIGUSR1, &action, nil)
    }

    private func workerLoop(listenDescriptor: Int32, state: ServerState) {
        var context = makeContext()
        let request = UnsafeMutablePointer<FCGX_Request>.allocate(capacity: 1)
        defer { request.deallocate() }
        guard FCGX_InitRequest(request, listenDescriptor, Int32(FCGI_FAIL_ACCEPT_ON_INTR)) == 0 else {
            Log.error("FCGX_InitRequest failed")
            return
        }
        while !state.stopping.load(ordering: .sequentiallyConsistent) {
            guard FCGX_Accept_r(request) >= 0 else {
                // Woken to stop, or accept failed (e.g. out of descriptors): do not spin.
                if !state.stopping.load(ordering: .sequentiallyConsistent) { usleep(10_000) }
                continue
            }
            let started = Self.monotonicMilliseconds()
            let (response, line) = respond(to: request, context: &context)
            write(response, to: request.pointee.out)
            FCGX_Finish_r(request)
            if logsRequests {
                Log.info(RequestLogLine(requestID: line.requestID, method: line.method, path: line.path,
                                        status: response.status, milliseconds: Self.monotonicMilliseconds() - started).text)
            }
        }
        FCGX_Free(request, 0)
    }

    private static func monotonicMilliseconds() -> Double {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return Double(now.tv_sec) * 1000 + Double(now.tv_nsec) / 1_000_000
    }

    /// What the request log line needs of a request, known before the body is read.
    private struct RequestSummary {
        let requestID: String?
        let method: String
        let path: String
    }

    private func respond(to request: UnsafeMutablePointer<FCGX_Request>, context: inout Context) -> (HTTPServerResponse, RequestSummary) {
        let envp = request.pointee.envp
        func param(_ name: String) -> String? { FCGX_GetParam(name, envp).map { String(cString: $0) } }
        let summary = RequestSummary(requestID: param("REQUEST_ID"), method: param("REQUEST_METHOD") ?? "GET",
                                     path: param("DOCUMENT_URI") ?? param("SCRIPT_NAME") ?? "/")
        return (respond(to: request, summary: summary, context: &context), summary)
    }

    private func respond(to request: UnsafeMutablePointer<FCGX_Request>, summary: RequestSummary, context: inout Context) -> HTTPServerResponse {
        let envp = request.pointee.envp
        func param(_ name: String) -> String? { FCGX_GetParam(name, envp).map { String(cString: $0) } }
        let requestID = summary.requestID
        let contentLength = param("CONTENT_LENGTH").flatMap { Int($0) } ?? 0
        if contentLength > maximumBodyBytes {
            return .problem(Problem(.payloadTooLarge, "The body is \(contentLength) bytes; at most \(maximumBodyBytes) are accepted."), requestID: requestID)
        }
        var body = [UInt8](repeating: 0, count: contentLength)
        if contentLength > 0 {
            let read = body.withUnsafeMutableBufferPointer { buffer in
                buffer.baseAddress!.withMemoryRebound(to: CChar.self, capacity: contentLength) {
                    FCGX_GetStr($0, Int32(contentLength), request.pointee.in)
                }
            }
            body.removeSubrange(Int(max(0, read))...)
        }
        var headers: [String: String] = [:]
        var cursor = envp
        while let entry = cursor?.pointee {
            let text = String(cString: entry)
            if text.hasPrefix("HTTP_"), let equals = text.firstIndex(of: "=") {
                let name = text[text.index(text.startIndex, offsetBy: 5)..<equals].replacingUnderscores().lowercased()
                headers[name] = String(text[text.index(after: equals)...])
            }
            cursor = cursor?.advanced(by: 1)
        }
        if let contentType = param("CONTENT_TYPE") { headers["content-type"] = contentType }
        let httpRequest = HTTPServerRequest(
            method: summary.method,
            path: summary.path,
            queryString: param("QUERY_STRING") ?? "",
            headers: headers, body: body, requestID: requestID,
            remoteAddress: param("REMOTE_ADDR"))
        do {
            return try handler(&context, httpRequest)
        } catch let problem as Problem {
            return .problem(problem, requestID: requestID)
        } catch let error as PostgresError where error.isUnavailable {
            Log.error("request \(requestID ?? "-"): \(error)")
            return .problem(.databaseUnavailable, requestID: requestID)
        } catch {
            Log.error("request \(requestID ?? "-") \(httpRequest.method) \(RequestLogLine.redactedPath(httpRequest.path)): \(error)")
            return .problem(Problem(.internalError, "Something went wrong on our side; nothing was changed. Quote the request id when reporting it."), requestID: requestID)
        }
    }

    private func write(_ response: HTTPServerResponse, to stream: UnsafeMutablePointer<FCGX_Stream>?) {
        var head = "Status: \(response.status) \(HTTPServerResponse.reasonPhrase(response.status))\r\n"
        for (name, value) in response.headers { head += "\(name): \(value)\r\n" }
        head += "Content-Length: \(response.body.count)\r\n\r\n"
        var headBytes = Array(head.utf8)
        headBytes.withUnsafeMutableBufferPointer { buffer in
            buffer.baseAddress!.withMemoryRebound(to: CChar.self, capacity: buffer.count) {
                _ = FCGX_PutStr($0, Int32(buffer.count), stream)
            }
        }
        guard !response.body.isEmpty else { return }
        response.body.withUnsafeBufferPointer { buffer in
            buffer.baseAddress!.withMemoryRebound(to: CChar.self, capacity: buffer.count) {
                _ = FCGX_PutStr($0, Int32(buffer.count), stream)
            }
        }
    }
}

/// What the main thread and the workers share while stopping.
private final class ServerState: Sendable {
    let stopping = Atomic<Bool>(false)
    let running = Atomic<Int>(0)
}

private extension Substring {
    func replacingUnderscores() -> String { String(map { $0 == "_" ? "-" : $0 }) }
}
