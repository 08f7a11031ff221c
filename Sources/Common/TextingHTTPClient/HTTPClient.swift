import CCurl
import Synchronization

/// An HTTP client on one libcurl multi handle: many transfers run at once on the calling
/// thread, and kept-alive connections (cached by the multi handle) are reused by later
/// requests to the same host. Redirects are not followed; only http and https are spoken.
///
/// Not `Sendable`: create one client per thread and use it only there.
///
/// Streaming use: `start` transfers with your own tags, then call `poll` in a loop while
/// `inFlight > 0`. Batch use: `performAll`.
public final class HTTPClient {
    /// The multi handle (`CURLM *`). This object is its only owner; `deinit` frees it.
    private let multi: UnsafeMutableRawPointer
    /// Transfers added to the multi handle, keyed by their easy handle, which is what
    /// curl_multi_info_read reports. This table is the strong reference that keeps each
    /// transfer (the callbacks' context) alive while curl may call back into it.
    private var activeTransfers: [UnsafeMutableRawPointer: HTTPTransfer] = [:]
    /// Reset easy handles kept for the next transfers, which saves curl_easy_init and keeps
    /// per-handle state such as TLS session IDs warm.
    private var idleEasyHandles: [CurlEasyHandle] = []
    private let maxIdleEasyHandles: Int
    /// Finished `start` transfers that the next `poll` returns.
    private var readyCompletions: [HTTPCompletion] = []
    /// Results of the running `performAll`, indexed like its requests.
    private var performAllResults: [Result<HTTPResponse, HTTPClientError>?] = []
    private var performAllRemaining = 0

    /// Creates a client with its own connection cache.
    ///
    /// Initializes libcurl once per process first (the corresponding C function is
    /// `curl_global_init`), then creates the multi handle (`curl_multi_init`) and sets its
    /// limits with `curl_multi_setopt`: transfers beyond `maxConnectionsPerHost`
    /// (CURLMOPT_MAX_HOST_CONNECTIONS) or `maxTotalConnections` (CURLMOPT_MAX_TOTAL_CONNECTIONS)
    /// wait for a free connection, and up to `maxTotalConnections` idle connections are kept
    /// alive for reuse (CURLMOPT_MAXCONNECTS). Both limits must be positive.
    public init(maxConnectionsPerHost: Int = 64, maxTotalConnections: Int = 256) throws(HTTPClientError) {
        guard maxConnectionsPerHost > 0, maxTotalConnections > 0 else {
            throw .invalidArgument("connection limits must be positive, got \(maxConnectionsPerHost) per host and \(maxTotalConnections) in total")
        }
        try CurlGlobalInitialization.ensureInitialized()
        guard let multi = curl_multi_init() else {
            throw HTTPClientError(curlCode: CURLE_OUT_OF_MEMORY, detail: "curl_multi_init failed")
        }
        self.multi = multi
        maxIdleEasyHandles = maxTotalConnections
        // Every stored property is set now, so a throw below still runs deinit, which frees
        // the multi handle: freeing it here as well would be a double free.
        try setMultiOption(CURLMOPT_MAX_HOST_CONNECTIONS, maxConnectionsPerHost)
        try setMultiOption(CURLMOPT_MAX_TOTAL_CONNECTIONS, maxTotalConnections)
        // By default the idle-connection cache grows to 4 times the most easy handles ever
        // added; a fixed cap keeps file descriptors bounded after a burst.
        try setMultiOption(CURLMOPT_MAXCONNECTS, maxTotalConnections)
    }

    /// Frees every handle: easy handles of unfinished transfers are removed from the multi
    /// handle first (curl requires that order), then freed with `curl_easy_cleanup`, and the
    /// multi handle last with `curl_multi_cleanup`, which closes cached connections.
    deinit {
        for (handle, transfer) in activeTransfers {
            curl_multi_remove_handle(multi, handle)
            // Drops curl's pointers into the transfer before the transfer is freed.
            transfer.easy.reset()
        }
        activeTransfers.removeAll()
        idleEasyHandles.removeAll()
        curl_multi_cleanup(multi)
    }

    /// Transfers started and not yet returned by `poll`.
    public var inFlight: Int { activeTransfers.count + readyCompletions.count }

    /// Set by a `Waker`, cleared by the `poll` it ends.
    private let woken = WakeFlag()

    fileprivate final class WakeFlag: Sendable {
        let raised = Atomic<Bool>(false)
    }

    /// Ends a `poll` that another thread is in, at once; for a thread that hands that one
    /// new work. Safe from any thread while the client exists: whoever shares it must stop
    /// using it before the client is freed. The corresponding C function is `curl_multi_wakeup`.
    public struct Waker: @unchecked Sendable {
        fileprivate let multi: UnsafeMutableRawPointer
        fileprivate let flag: WakeFlag

        public func wake() {
            flag.raised.store(true, ordering: .releasing)
            curl_multi_wakeup(multi)
        }
    }

    public var waker: Waker { Waker(multi: multi, flag: woken) }

    /// Starts sending `request` without waiting; a later `poll` returns its completion with
    /// `tag`. A request that cannot start (invalid, out of memory) also comes back through
    /// `poll`, as a failure. The corresponding C function is `curl_multi_add_handle`.
    public func start(_ request: HTTPRequest, tag: Int) {
        startTransfer(request, tag: tag, belongsToPerformAll: false)
    }

    /// Drives all transfers and returns those that finished, each exactly once.
    ///
    /// Runs `curl_multi_perform`, and while nothing has finished waits for socket activity
    /// with `curl_multi_poll`. Returns as soon as at least one transfer finished, once
    /// `timeoutMilliseconds` have passed, when a `Waker` wakes it, or at once if nothing is in
    /// flight.
    public func poll(timeoutMilliseconds: Int) -> [HTTPCompletion] {
        let deadline = ContinuousClock.now.advanced(by: .milliseconds(max(0, timeoutMilliseconds)))
        while true {
            performAndCollect()
            if !readyCompletions.isEmpty || activeTransfers.isEmpty { break }
            let remaining = ContinuousClock.now.duration(to: deadline)
            guard remaining > .zero else { break }
            waitForActivity(atMost: remaining)
            if woken.raised.exchange(false, ordering: .acquiring) {
                performAndCollect()
                break
            }
        }
        defer { readyCompletions.removeAll() }
        return readyCompletions
    }

    /// Sends all `requests` concurrently and returns their results in request order. Returns
    /// when the last one finished, which every request's own timeout bounds. Transfers from
    /// `start` keep running meanwhile; their completions wait for the next `poll`.
    /// The corresponding C functions are `curl_multi_perform` and `curl_multi_poll`.
    public func performAll(_ requests: [HTTPRequest]) -> [Result<HTTPResponse, HTTPClientError>] {
        performAllResults = Array(repeating: nil, count: requests.count)
        performAllRemaining = requests.count
        for (index, request) in requests.enumerated() {
            startTransfer(request, tag: index, belongsToPerformAll: true)
        }
        while performAllRemaining > 0 {
            performAndCollect()
            if performAllRemaining == 0 { break }
            // curl_multi_poll returns early on activity and on curl's own timers, so this
            // period only caps how long one wait can be.
            waitForActivity(atMost: .seconds(1))
        }
        defer { performAllResults.removeAll() }
        return performAllResults.map { $0 ?? .failure(.other(code: -1, message: "transfer lost by HTTPClient")) }
    }

    // MARK: - Transfers

    private func startTransfer(_ request: HTTPRequest, tag: Int, belongsToPerformAll: Bool) {
        guard let easy = idleEasyHandles.popLast() ?? CurlEasyHandle() else {
            let failure = HTTPClientError(curlCode: CURLE_OUT_OF_MEMORY, detail: "curl_easy_init failed")
            deliver(tag: tag, belongsToPerformAll: belongsToPerformAll, result: .failure(failure), elapsed: .zero)
            return
        }
        let transfer = HTTPTransfer(tag: tag, belongsToPerformAll: belongsToPerformAll, easy: easy)
        do throws(HTTPClientError) {
            try transfer.configure(for: request)
            let code = curl_multi_add_handle(multi, easy.pointer)
            guard code == CURLM_OK else { throw HTTPClientError(multiCode: code) }
            activeTransfers[easy.pointer] = transfer
        } catch {
            finish(transfer, result: .failure(error))
        }
    }

    /// Lets curl do all work that is ready and hands every finished transfer to `finish`.
    private func performAndCollect() {
        var running: Int32 = 0
        let code = curl_multi_perform(multi, &running)
        guard code == CURLM_OK else {
            failAllActiveTransfers(HTTPClientError(multiCode: code))
            return
        }
        var messagesLeft: Int32 = 0
        while let message = curl_multi_info_read(multi, &messagesLeft) {
            // Read everything needed now: the message is freed by curl_multi_remove_handle.
            guard message.pointee.msg == CURLMSG_DONE, let handle = message.pointee.easy_handle,
                let transfer = activeTransfers.removeValue(forKey: handle)
            else { continue }
            let transferCode = message.pointee.data.result
            let result: Result<HTTPResponse, HTTPClientError>
            if transferCode == CURLE_OK {
                do throws(HTTPClientError) {
                    result = .success(try transfer.finishedResponse())
                } catch {
                    result = .failure(error)
                }
            } else if let refusal = transfer.refusedDestination {
                result = .failure(.destinationRefused(refusal))
            } else if transfer.bodyCut, transfer.acceptsTruncatedBody, let response = try? transfer.finishedResponse(), response.status > 0 {
                result = .success(response)
            } else if transfer.exceededLimit {
                result = .failure(.responseTooLarge(limit: transfer.maximumResponseBytes))
            } else {
                result = .failure(HTTPClientError(curlCode: transferCode, detail: transfer.easy.lastErrorMessage))
            }
            curl_multi_remove_handle(multi, handle)
            finish(transfer, result: result)
        }
    }

    /// Blocks until socket activity, one of curl's timers, or `limit`. The corresponding C
    /// function is `curl_multi_poll`.
    private func waitForActivity(atMost limit: Duration) {
        // Round up so that a remaining fraction of a millisecond does not become a busy loop.
        let (seconds, attoseconds) = limit.components
        let milliseconds = seconds * 1_000 + (attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000
        let code = curl_multi_poll(multi, nil, 0, Int32(clamping: milliseconds), nil)
        if code != CURLM_OK {
            failAllActiveTransfers(HTTPClientError(multiCode: code))
        }
    }

    /// Ends every transfer with `error`; used when the multi handle itself fails, so that no
    /// caller waits forever on transfers curl will no longer drive.
    private func failAllActiveTransfers(_ error: HTTPClientError) {
        let transfers = activeTransfers
        activeTransfers.removeAll()
        for (handle, transfer) in transfers {
            curl_multi_remove_handle(multi, handle)
            finish(transfer, result: .failure(error))
        }
    }

    /// Recycles the transfer's easy handle (already outside the multi handle) and delivers
    /// its result. The reset happens before the transfer is released, so curl never holds a
    /// pointer to a freed context or header list.
    private func finish(_ transfer: HTTPTransfer, result: Result<HTTPResponse, HTTPClientError>) {
        transfer.easy.reset()
        if idleEasyHandles.count < maxIdleEasyHandles {
            idleEasyHandles.append(transfer.easy)
        }
        deliver(
            tag: transfer.tag, belongsToPerformAll: transfer.belongsToPerformAll, result: result,
            elapsed: transfer.startedAt.duration(to: .now))
    }

    private func deliver(
        tag: Int, belongsToPerformAll: Bool, result: Result<HTTPResponse, HTTPClientError>,
        elapsed: Duration
    ) {
        if belongsToPerformAll {
            performAllResults[tag] = result
            performAllRemaining -= 1
        } else {
            readyCompletions.append(HTTPCompletion(tag: tag, result: result, elapsed: elapsed))
        }
    }

    /// The corresponding C function is `curl_multi_setopt`.
    private func setMultiOption(_ option: CURLMoption, _ value: Int) throws(HTTPClientError) {
        let code = texting_curl_multi_setopt_long(multi, option, value)
        guard code == CURLM_OK else { throw HTTPClientError(multiCode: code) }
    }
}
