import TextingSupport

/// The headers of one webhook request, as the Standard Webhooks specification defines them, so
/// that every client can verify with an existing library: `webhook-id` (the event's id, the
/// same for every attempt), `webhook-timestamp` (seconds, this attempt's) and
/// `webhook-signature`: `v1,<base64 HMAC-SHA256 of "id.timestamp.body">` for each secret,
/// space-separated (during a rotation both the new and the old secret sign).
public enum WebhookSignature {
    public static func headers(eventID: String, timestamp: Int, body: [UInt8], secrets: [WebhookSecret]) -> [(name: String, value: String)] {
        let signed = Array("\(eventID).\(timestamp).".utf8) + body
        let signatures = secrets.map { "v1," + Base64.encode(Digest.hmacSHA256(key: $0.bytes, data: signed)) }
        return [
            ("webhook-id", eventID),
            ("webhook-timestamp", String(timestamp)),
            ("webhook-signature", signatures.joined(separator: " ")),
        ]
    }
}
