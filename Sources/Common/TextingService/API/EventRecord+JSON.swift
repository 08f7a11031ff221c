import TextingStore
import TextingSupport

extension EventRecord {
    /// The event as the API and every webhook show it, in the Standard Webhooks payload shape:
    /// `id`, `type`, `timestamp` and `data` (the message as `GET /messages/{id}` showed it
    /// right after the change, with its `client_ref`; or the phone number and what became of it).
    var json: JSONValue {
        var data: [String: JSONValue] = [:]
        if let message { data["message"] = message.json }
        if let phoneNumber {
            var number: [String: JSONValue] = ["number": .string(phoneNumber)]
            switch type {
            case .phoneNumberInactive: number["status"] = "inactive"
            case .phoneNumberOptedOut: number["opted_out"] = true
            case .phoneNumberOptedIn: number["opted_out"] = false
            default: break
            }
            data["phone_number"] = .object(number)
        }
        if let inbound {
            data["inbound_message"] = [
                "id": .string(inbound.id), "from": .string(inbound.from), "to": .string(inbound.to), "message": .string(inbound.body),
                "keyword": JSONValue(inbound.keyword), "in_reply_to": JSONValue(inbound.inReplyTo), "received_at": .string(inbound.receivedAt),
            ]
        }
        return ["id": .string(id), "type": .string(type.rawValue), "timestamp": .string(createdAt), "data": .object(data)]
    }
}
