import FoundationEssentials
import TextingDomain
import TextingFastCGI
import TextingPostgres
import TextingStore
import TextingSupport

/// What providers call (DeliveryFCGI): delivery reports (`POST /messages/delivery_status`)
/// and recipients' replies (`POST /messages/inbound`).
public struct DeliveryAPI: Sendable {
    public let signer: CallbackSigner
    /// Commits the reports of concurrent callbacks together (group commit).
    private let applier: ReportApplier
    /// How replies are read and answered.
    public let inbound: InboundConfiguration

    /// The keyword lists, the answers, and the country code a reply's `from` is read with.
    public struct InboundConfiguration: Sendable {
        public let keywords: RecipientKeywords
        public let replies: InboundStore.Replies
        public let defaultCountryCode: String

        public init(keywords: RecipientKeywords, replies: InboundStore.Replies, defaultCountryCode: String) {
            self.keywords = keywords
            self.replies = replies
            self.defaultCountryCode = defaultCountryCode
        }
    }

    public init(signer: CallbackSigner, applier: ReportApplier, inbound: InboundConfiguration) {
        self.signer = signer
        self.applier = applier
        self.inbound = inbound
    }

    public func handle(_ request: HTTPServerRequest, connection: PostgresConnection, now: Int = Int(Date.now.timeIntervalSince1970)) throws
        -> HTTPServerResponse
    {
        if request.path == "/messages/inbound" { return try receive(request, connection: connection) }
        guard request.path == "/messages/delivery_status" else {
            throw Problem(.notFound, "There is nothing at \(request.path.prefix(100)).")
        }
        guard request.method == "POST" else { throw Problem.methodNotAllowed(request.method, allowed: ["POST"]) }
        // The signature is checked before the body is even parsed: an unsigned caller learns nothing.
        guard let callback = signer.verify(parameters: request.queryParameters, now: now), UUID(uuidString: callback.messageID) != nil else {
            throw Problem(.invalidSignature, "Call the callback URL exactly as it was given with the message; it is signed and expires.")
        }
        let json = try request.jsonObject()
        let providerMessageID: String
        switch json["message_id"] {
        case .string(let value)? where ProviderAnswer.isUsable(value):
            providerMessageID = value
        case nil: throw Problem(.missingField, "`message_id` (the provider's id for the message) is required.", field: "message_id")
        case .string?: throw Problem(.invalidParameter, "`message_id` must be 1 to 200 bytes without control characters.", field: "message_id")
        case let other?: throw Problem(.wrongType, "`message_id` must be a string; got a \(other.typeName).", field: "message_id")
        }
        let report: DeliveryReport
        switch json["status"] {
        case .string(let value)?:
            guard let known = DeliveryReport(rawValue: value) else {
                throw Problem(
                    .unknownStatus, "`status` must be one of \(DeliveryReport.allCases.map(\.rawValue).joined(separator: ", ")); got `\(value.prefix(40))`.",
                    field: "status")
            }
            report = known
        case nil: throw Problem(.missingField, "`status` is required: delivered, failed or invalid.", field: "status")
        case let other?: throw Problem(.wrongType, "`status` must be a string; got a \(other.typeName).", field: "status")
        }
        // The provider's own code for a failure: optional; when given it must be usable, so a
        // provider sending garbage hears so instead of having it dropped without a word.
        var providerErrorCode: String?
        if let value = json["error_code"], value != .null {
            guard let code = ProviderErrorCode.parse(value) else {
                throw Problem(
                    .invalidParameter, "`error_code` must be a string of 1 to \(ProviderErrorCode.maximumLength) visible ASCII characters, or a whole number.",
                    field: "error_code")
            }
            providerErrorCode = code
        }
        // Its words for it, under either name providers use: optional, and refused when unusable
        // (the same rule as for the code).
        var providerErrorText: String?
        for field in ["error_message", "error_text"] {
            guard let value = json[field], value != .null else { continue }
            guard let text = ProviderErrorText.parse(value) else {
                throw Problem(
                    .invalidParameter,
                    "`\(field)` must be a string of 1 to \(ProviderErrorText.maximumLength) characters without control characters.",
                    field: field)
            }
            providerErrorText = providerErrorText ?? text
        }
        switch try applier.apply(
            DeliveryStore.Report(
                report, messageID: callback.messageID, attempt: callback.attempt, providerMessageID: providerMessageID, requestID: request.requestID,
                providerErrorCode: report == .failed ? providerErrorCode : nil, providerErrorText: report == .failed ? providerErrorText : nil),
            connection: connection)
        {
        case .applied(let status):
            return .json(200, ["message_id": .string(providerMessageID), "status": .string(status.rawValue), "applied": true])
        case .unchanged(let status):
            return .json(200, ["message_id": .string(providerMessageID), "status": .string(status.rawValue), "applied": false])
        case .unknownMessage:
            throw Problem(.notFound, "No message matches this callback.")
        }
    }

    /// A recipient's reply, relayed by the provider whose signed inbound URL this is: stored
    /// once per provider id, its keyword acted on (see `InboundStore.receive`).
    private func receive(_ request: HTTPServerRequest, connection: PostgresConnection) throws -> HTTPServerResponse {
        guard request.method == "POST" else { throw Problem.methodNotAllowed(request.method, allowed: ["POST"]) }
        // Checked before the body is parsed: an unsigned caller learns nothing.
        guard let provider = signer.verifyInbound(parameters: request.queryParameters) else {
            throw Problem(.invalidSignature, "Call the inbound URL exactly as it was given to you (`textingctl providers inbound-url`); it is signed.")
        }
        let json = try request.jsonObject()
        let message = try Problem.validating { () throws(ValidationError) in
            try InboundMessage(json: json, defaultCountryCode: inbound.defaultCountryCode)
        }
        let keyword = inbound.keywords.keyword(of: message.body.text)
        switch try InboundStore(connection: connection).receive(message, provider: provider, keyword: keyword, replies: inbound.replies) {
        case .stored(let id, let keyword):
            return .json(200, ["id": .string(id), "keyword": JSONValue(keyword?.rawValue), "duplicate": false])
        case .duplicate(let id):
            return .json(200, ["id": .string(id), "keyword": .null, "duplicate": true])
        }
    }
}
