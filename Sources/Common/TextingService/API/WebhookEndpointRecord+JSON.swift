import TextingStore
import TextingSupport

extension WebhookEndpointRecord {
    /// The endpoint as the API shows it (never its secret, which only its creation and a
    /// rotation show, once).
    var json: JSONValue {
        [
            "id": .string(id),
            "url": .string(url),
            "event_types": .array(eventTypes.map { .string($0) }),
            "description": .string(description),
            "created_at": .string(createdAt),
            "status": .string(disabledAt == nil ? "enabled" : "disabled"),
            "disabled_at": JSONValue(disabledAt),
            "disabled_reason": JSONValue(disabledReason),
            "failing_since": JSONValue(failingSince),
            "last_success_at": JSONValue(lastSuccessAt),
            "pending_deliveries": .number(Double(pendingDeliveries)),
        ]
    }
}

extension WebhookAttemptRecord {
    var json: JSONValue {
        [
            "event_id": .string(eventID),
            "event_type": .string(eventType),
            "attempt": .number(Double(attempt)),
            "outcome": .string(outcome),
            "http_status": httpStatus.map { .number(Double($0)) } ?? .null,
            "error": JSONValue(error),
            "latency_ms": .number(Double(latencyMilliseconds)),
            "attempted_at": .string(attemptedAt),
        ]
    }
}
