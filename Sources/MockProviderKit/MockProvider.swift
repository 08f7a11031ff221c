import FoundationEssentials
import Glibc
import Synchronization
import TextingFastCGI
import TextingHTTPClient
import TextingSupport

/// A stand-in SMS provider that honours the provider contract over HTTP (behind nginx, as a
/// FastCGI responder), for development, tests and benchmarks. It counts what it receives by
/// `Idempotency-Key` so tests can prove that each message reached a provider exactly once.
public final class MockProvider: Sendable {
    /// The provider's own code in a simulated rejection (400) and in a `failed` report.
    public static let rejectionCode = "21610"
    public static let failureCode = "30003"

    public let name: String
    /// Where `POST /_mock/inbound` relays a recipient's reply: the service's signed inbound URL.
    public let inboundURL: String?
    private let state: Mutex<State>

    private struct State {
        var settings: MockProviderSettings
        var received = 0
        var accepted = 0
        var answeredFailure = 0
        var answeredRateLimit = 0
        /// Of `answeredRateLimit`: sends beyond the contracted rate (`tps`).
        var answeredOverTPS = 0
        var rateLimit = MockRateLimit()
        var answeredRejection = 0
        var byKey: [String: Int] = [:]
        var callbacksSent = 0
        var callbacksFailed = 0
        /// Why callbacks failed: the service's HTTP status, or the transfer error.
        var callbackFailures: [String: Int] = [:]
        /// Taken from `pendingCallbacks`, answer not yet in.
        var callbacksInFlight = 0
        var callbackStatusCounts: [String: Int] = [:]
        var pendingCallbacks: [PendingCallback] = []
        /// Each send to a number, for `GET /_mock/sends`: what the recipient's phone would
        /// have shown. At most `maximumRecordedSends` in all.
        var sendsByNumber: [String: [RecordedSend]] = [:]
        var recordedSends = 0
        var unrecordedSends = 0
    }

    /// The most sends `GET /_mock/sends` remembers (since the last reset); later ones are
    /// only counted, so a long benchmark cannot grow the mock without bound.
    public static let maximumRecordedSends = 200_000

    /// A send as `GET /_mock/sends` shows it: when it arrived and, if the mock accepted it,
    /// when it answered so (Unix ms), and its `Idempotency-Key` (the service's message id).
    private struct RecordedSend {
        let arrived: Double
        let key: String
        /// The `from` the service sent, if any.
        let from: String?
        var accepted: Double?
    }

    private struct PendingCallback: Sendable {
        let due: Date
        let url: String
        let body: [UInt8]
    }

    public init(name: String, settings: MockProviderSettings, inboundURL: String? = nil) {
        self.name = name
        self.inboundURL = inboundURL
        state = Mutex(State(settings: settings))
    }

    /// Answers one request; `/send` is the provider contract, `/_mock/…` the test controls.
    public func handle(_ request: HTTPServerRequest) throws -> HTTPServerResponse {
        switch (request.method, request.path) {
        case ("POST", "/send"): return try send(request)
        case ("GET", "/_mock/stats"): return .json(200, stats())
        case ("GET", "/_mock/sends"): return .json(200, sends())
        case ("POST", "/_mock/config"):
            let json = try request.jsonObject()
            return .json(
                200,
                try state.withLock { state throws(Problem) in
                    try state.settings.update(from: json)
                    return state.settings.json
                })
        case ("POST", "/_mock/inbound"): return try relayInbound(request)
        case ("POST", "/_mock/reset"):
            state.withLock { state in
                // Callbacks already on their way stay counted, so the count never goes below zero.
                let inFlight = state.callbacksInFlight
                state = State(settings: state.settings)
                state.callbacksInFlight = inFlight
            }
            return .json(200, stats())
        default:
            throw Problem(
                .notFound,
                "mock provider \(name) serves POST /send, GET /_mock/stats, GET /_mock/sends, POST /_mock/config, POST /_mock/reset, "
                    + "POST /_mock/inbound")
        }
    }

    private func send(_ request: HTTPServerRequest) throws -> HTTPServerResponse {
        let json = try request.jsonObject()
        guard case .string(let to)? = json["to_number"], to.hasPrefix("+"),
            case .string(let message)? = json["message"], !message.isEmpty,
            case .string(let callbackURL)? = json["callback_url"], callbackURL.hasPrefix("http")
        else {
            return .json(400, ["error": "to_number, message and callback_url are required strings"])
        }
        let from: String?
        switch json["from"] {
        case nil: from = nil
        case .string(let text)? where !text.isEmpty && text.utf8.count <= 16: from = text
        default: return .json(400, ["error": "from, when given, is a string of 1 to 16 characters"])
        }
        let key = request.header("idempotency-key") ?? ""
        let arrived = Date.now.timeIntervalSince1970 * 1000
        let (settings, recorded, withinRate) = state.withLock { state -> (MockProviderSettings, Int?, Bool) in
            state.received += 1
            let withinRate = state.rateLimit.admit(now: arrived / 1000, tps: state.settings.tps)
            if !withinRate {
                state.answeredRateLimit += 1
                state.answeredOverTPS += 1
            }
            guard state.recordedSends < Self.maximumRecordedSends else {
                state.unrecordedSends += 1
                return (state.settings, nil, withinRate)
            }
            state.sendsByNumber[to, default: []].append(RecordedSend(arrived: arrived, key: key, from: from))
            state.recordedSends += 1
            return (state.settings, state.sendsByNumber[to]!.count - 1, withinRate)
        }
        guard withinRate else {
            return .json(429, ["error": .string("over the contracted rate of \(settings.tps) per second")], headers: [("Retry-After", "1")])
        }
        switch settings.answer(roll: Double.random(in: 0..<1)) {
        case .failure:
            if settings.latencyMilliseconds > 0 { usleep(UInt32(settings.latencyMilliseconds) * 1000) }
            state.withLock { $0.answeredFailure += 1 }
            return .json(500, ["error": "simulated provider failure"])
        case .rateLimit:
            state.withLock { $0.answeredRateLimit += 1 }
            return .json(429, ["error": "simulated rate limit"], headers: [("Retry-After", String(settings.retryAfterSeconds))])
        case .rejection:
            state.withLock { $0.answeredRejection += 1 }
            // With a code of the provider's own, as real providers give (Twilio's 21610: the
            // recipient unsubscribed).
            return .json(400, ["error": "simulated rejection: the provider refuses this message", "error_code": .string(Self.rejectionCode)])
        case .acceptance:
            break
        }
        let providerMessageID = "\(name)-\(UUID().uuidString.lowercased())"
        if settings.callbackDelayMilliseconds >= 0 {
            let status = settings.drawStatus()
            var body: JSONValue = ["status": .string(status), "message_id": .string(providerMessageID)]
            // A failure report carries the provider's own code (Twilio's 30003: unreachable handset).
            if status == "failed" { body = ["status": .string(status), "message_id": .string(providerMessageID), "error_code": .string(Self.failureCode)] }
            let delay = settings.callbackBeforeAnswer ? 0 : settings.callbackDelayMilliseconds
            let callback = PendingCallback(due: Date.now.addingTimeInterval(Double(delay) / 1000), url: callbackURL, body: body.serialized())
            state.withLock { $0.pendingCallbacks.append(callback) }
            if settings.callbackBeforeAnswer {
                // Give the callback a head start so it reaches the service before this answer does.
                usleep(UInt32(max(settings.callbackDelayMilliseconds, 50)) * 1000)
            }
        }
        if settings.latencyMilliseconds > 0 { usleep(UInt32(settings.latencyMilliseconds) * 1000) }
        let accepted = Date.now.timeIntervalSince1970 * 1000
        state.withLock { state in
            state.accepted += 1
            state.byKey[key, default: 0] += 1
            // A reset meanwhile emptied the record: then there is nothing to mark.
            if let recorded, let sends = state.sendsByNumber[to], recorded < sends.count, sends[recorded].key == key {
                state.sendsByNumber[to]![recorded].accepted = accepted
            }
        }
        return .json(200, ["message_id": .string(providerMessageID)])
    }

    /// Plays a recipient replying: `{"from": "+1…", "message": "STOP"}` (optionally `to` and
    /// `provider_message_id`) is posted to the service's inbound URL as this provider would,
    /// and the service's answer is returned.
    private func relayInbound(_ request: HTTPServerRequest) throws -> HTTPServerResponse {
        guard let inboundURL else {
            return .json(409, ["error": "MOCK_INBOUND_URL is not set: this mock provider does not know where to relay replies"])
        }
        let json = try request.jsonObject()
        guard case .string(let from)? = json["from"], case .string(let message)? = json["message"] else {
            return .json(400, ["error": "from and message are required strings"])
        }
        var to = "+15550000000"
        if case .string(let given)? = json["to"] { to = given }
        var id = "\(name)-in-\(UUID().uuidString.lowercased())"
        if case .string(let given)? = json["provider_message_id"] { id = given }
        let body: JSONValue = ["from": .string(from), "to": .string(to), "message": .string(message), "provider_message_id": .string(id)]
        let http = try HTTPClient(maxConnectionsPerHost: 1, maxTotalConnections: 1)
        let request = HTTPRequest(
            url: inboundURL, method: "POST", headers: [HTTPHeader(name: "Content-Type", value: "application/json")], body: body.serialized(),
            timeoutMilliseconds: 10_000)
        switch http.performAll([request])[0] {
        case .success(let response):
            let answer = (try? JSONValue.parse(response.body)) ?? .string(String(decoding: response.body.prefix(500), as: UTF8.self))
            return .json(200, ["status": .number(Double(response.status)), "answer": answer, "provider_message_id": .string(id)])
        case .failure(let error):
            return .json(502, ["error": .string("relaying to the service failed: \(error)")])
        }
    }

    /// Every well-formed send received since the last reset, by recipient: when each arrived
    /// and when the mock accepted it (Unix milliseconds; null: it answered otherwise), and
    /// its message id.
    private func sends() -> JSONValue {
        state.withLock { state in
            [
                "name": .string(name),
                "by_number": .object(
                    state.sendsByNumber.mapValues { sends in
                        .array(
                            sends.map {
                                [
                                    "arrived_ms": .number($0.arrived), "accepted_ms": $0.accepted.map { .number($0) } ?? .null, "message_id": .string($0.key),
                                    "from": JSONValue($0.from),
                                ]
                            })
                    }),
                "not_recorded": .number(Double(state.unrecordedSends)),
            ]
        }
    }

    private func stats() -> JSONValue {
        state.withLock { state in
            [
                "name": .string(name),
                "received": .number(Double(state.received)),
                "accepted": .number(Double(state.accepted)),
                "answered_500": .number(Double(state.answeredFailure)),
                "answered_429": .number(Double(state.answeredRateLimit)),
                "answered_429_over_tps": .number(Double(state.answeredOverTPS)),
                "answered_400": .number(Double(state.answeredRejection)),
                "accepted_by_key": .object(state.byKey.mapValues { .number(Double($0)) }),
                "callbacks_pending": .number(Double(state.pendingCallbacks.count)),
                "callbacks_sent": .number(Double(state.callbacksSent)),
                "callbacks_failed": .number(Double(state.callbacksFailed)),
                "callbacks_failed_by_reason": .object(state.callbackFailures.mapValues { .number(Double($0)) }),
                "callbacks_in_flight": .number(Double(state.callbacksInFlight)),
                "settings": state.settings.json,
            ]
        }
    }

    /// Delivers due callbacks, concurrently, until the process ends. Runs on its own thread
    /// with its own HTTP client. No more are started than there are connections: one that
    /// waited in libcurl's queue for a connection would count that wait against its timeout,
    /// and a backlog (a slow service) would turn into callbacks lost as timed out instead of
    /// callbacks sent late, which is what a provider does.
    public func runCallbackLoop() {
        let connections = 32
        guard let http = try? HTTPClient(maxConnectionsPerHost: connections, maxTotalConnections: connections) else {
            Log.error("mock provider \(name): cannot create an HTTP client; no callbacks will be sent")
            return
        }
        var inFlight = 0
        var nextTag = 0
        while true {
            let now = Date.now
            let due: [PendingCallback] = state.withLock { state in
                var due: [PendingCallback] = []
                var index = 0
                while index < state.pendingCallbacks.count && inFlight + due.count < connections {
                    if state.pendingCallbacks[index].due <= now {
                        due.append(state.pendingCallbacks.remove(at: index))
                    } else {
                        index += 1
                    }
                }
                state.callbacksInFlight += due.count
                return due
            }
            for callback in due {
                nextTag += 1
                http.start(
                    HTTPRequest(
                        url: callback.url, method: "POST", headers: [HTTPHeader(name: "Content-Type", value: "application/json")],
                        body: callback.body, timeoutMilliseconds: 10_000),
                    tag: nextTag)
            }
            inFlight += due.count
            if inFlight == 0 {
                usleep(10_000)
                continue
            }
            let results = http.poll(timeoutMilliseconds: 10).map(\.result)
            inFlight -= results.count
            state.withLock { state in
                state.callbacksInFlight -= results.count
                for result in results {
                    switch result {
                    case .success(let response) where response.status == 200:
                        state.callbacksSent += 1
                    case .success(let response):
                        state.callbacksFailed += 1
                        state.callbackFailures[String(response.status), default: 0] += 1
                    case .failure(let error):
                        state.callbacksFailed += 1
                        state.callbackFailures["\(error)".prefix(80).description, default: 0] += 1
                    }
                }
            }
        }
    }
}
