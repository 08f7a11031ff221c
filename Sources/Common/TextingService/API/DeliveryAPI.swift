import FoundationEssentials
import TextingDomain
import TextingFastCGI
import TextingPostgres
import TextingStore

/// The provider callback endpoint `POST /messages/delivery_status` (DeliveryFCGI).
public struct DeliveryAPI: Sendable {
    public let signer: CallbackSigner
    /// Commits the reports of concurrent callbacks together (group commit).
    private let applier: ReportApplier

    public init(signer: CallbackSigner, applier: ReportApplier) {
        self.signer = signer
        self.applier = applier
    }

    public func handle(_ request: HTTPServerRequest, connection: PostgresConnection, now: Int = Int(Date.now.timeIntervalSince1970)) throws
        -> HTTPServerResponse
    {
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
        switch try applier.apply(
            DeliveryStore.Report(
                report, messageID: callback.messageID, attempt: callback.attempt, providerMessageID: providerMessageID, requestID: request.requestID),
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
}
