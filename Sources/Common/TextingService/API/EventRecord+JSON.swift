import TextingStore
import TextingSupport

extension EventRecord {
    /// The event as the API and every webhook show it, in the Standard Webhooks payload shape:
    /// `id`, `type`, `timestamp` and `data` (the message as `GET /messages/{id}` showed it
    /// right after the change, with its `client_ref`; or the phone number).
    var json: JSONValue {
        var data: [String: JSONValue] = [:]
        if let message { data["message"] = message.json }
        if let phoneNumber { data["phone_number"] = ["number": .string(phoneNumber), "status": "inactive"] }
        return ["id": .string(id), "type": .string(type.rawValue), "timestamp": .string(createdAt), "data": .object(data)]
    }
}
