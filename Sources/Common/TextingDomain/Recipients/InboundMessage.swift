import TextingSupport

/// A recipient's reply as a provider relays it (`POST /messages/inbound`), checked: `from`
/// (the recipient, E.164 after the same normalisation as `to_number`), `to` (the number or
/// short code it was sent to: 1 to 32 visible ASCII characters), `message` (the reply, under
/// the same rules as a message's body) and `provider_message_id` (the provider's id for it,
/// which makes a repeat of the same reply a no-op). Other fields a provider adds are ignored.
public struct InboundMessage: Sendable {
    public let from: PhoneNumber
    public let to: String
    public let body: MessageBody
    public let providerMessageID: String

    public init(json: [String: JSONValue], defaultCountryCode: String) throws(ValidationError) {
        from = try PhoneNumber(parsing: try Self.string(json, "from"), defaultCountryCode: defaultCountryCode, field: "from")
        let to = try Self.string(json, "to")
        guard (1...32).contains(to.utf8.count), to.utf8.allSatisfy({ (0x21...0x7E).contains($0) }) else {
            throw ValidationError(.invalidParameter, "`to` must be the number or short code replied to: 1 to 32 visible ASCII characters.", field: "to")
        }
        self.to = to
        body = try MessageBody(validating: try Self.string(json, "message"))
        let id = try Self.string(json, "provider_message_id")
        guard ProviderAnswer.isUsable(id) else {
            throw ValidationError(
                .invalidParameter, "`provider_message_id` must be 1 to 200 bytes without control characters.", field: "provider_message_id")
        }
        providerMessageID = id
    }

    /// The sender identity the recipient wrote to, when `to` is one (an international number
    /// a provider writes without its `+` counts as that number): the service answers from it,
    /// and a key that may send from it owns the reply. Nil for anything else.
    public var repliedTo: SenderID? {
        let digits = to.utf8.allSatisfy { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }
        let text = digits && to.utf8.count > 8 ? "+" + to : to
        return try? SenderID(validating: text, field: "to")
    }

    private static func string(_ json: [String: JSONValue], _ field: String) throws(ValidationError) -> String {
        switch json[field] {
        case .string(let value)?: return value
        case nil: throw ValidationError(.missingField, "`\(field)` is required.", field: field)
        case let other?: throw ValidationError(.wrongType, "`\(field)` must be a string; got a \(other.typeName).", field: field)
        }
    }
}
