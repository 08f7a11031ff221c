import TextingStore
import TextingSupport

extension MessageRecord {
    /// The message as the API shows it (`GET /messages/{id}` and friends).
    var json: JSONValue {
        [
            "id": .string(id),
            "to_number": .string(toNumber),
            "message": .string(body),
            "status": .string(status.rawValue),
            "segments": .number(Double(segments)),
            "encoding": .string(encoding),
            "provider": JSONValue(provider),
            "provider_message_id": JSONValue(providerMessageID),
            "attempts": .number(Double(attempts)),
            "error": errorCode.map { ["code": .string($0), "detail": JSONValue(errorDetail), "provider_code": JSONValue(providerErrorCode)] } ?? .null,
            // Exact decimal text as stored, read as a number: at most 6 decimals, well within a double.
            "cost": cost.flatMap(Double.init).map(JSONValue.number) ?? .null,
            "created_at": .string(createdAt),
            "updated_at": .string(updatedAt),
            "send_at": JSONValue(sendAt),
            "expires_at": JSONValue(expiresAt),
            "sent_at": JSONValue(sentAt),
            "delivered_at": JSONValue(deliveredAt),
            "failed_at": JSONValue(failedAt),
            "canceled_at": JSONValue(canceledAt),
            "client_ref": JSONValue(clientRef),
            "status_callback": JSONValue(statusCallback),
            "from": JSONValue(from),
        ]
    }
}
