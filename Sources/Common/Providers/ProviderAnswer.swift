/// What a provider's answer means for the message, per the provider contract: 200 with a
/// `message_id` is accepted; 5xx, 429, a timeout or a refused connection are temporary (try
/// again later, elsewhere); any other 4xx is permanent.
public enum ProviderAnswer: Sendable, Equatable {
    case accepted(providerMessageID: String)
    /// `retryAfterMilliseconds` is the provider's `Retry-After`, when it gave one.
    case temporary(reason: String, retryAfterMilliseconds: Int?)
    case permanent(reason: String)

    public init(_ result: Result<HTTPResponse, HTTPClientError>) {
        switch result {
        case .failure(let error):
            self = .temporary(reason: error.description, retryAfterMilliseconds: nil)
        case .success(let response):
            self.init(response)
        }
    }

    public init(_ response: HTTPResponse) {
        let excerpt = String(response.bodyText.prefix(200))
        switch response.status {
        case 200...299:
            // Client bodies are parsed strictly; a provider's answer may start with a UTF-8 byte
            // order mark, as some Windows-built gateways send, rather than risk a duplicate.
            let body = response.body.starts(with: Self.byteOrderMark) ? Array(response.body.dropFirst(3)) : response.body
            if case .string(let id)? = (try? JSONValue.parse(body))?["message_id"], !id.isEmpty, id.utf8.count <= 200 {
                self = .accepted(providerMessageID: id)
            } else {
                // Maybe accepted, maybe not: retrying risks a duplicate, not retrying risks a
                // lost message, and losing none is the promise.
                self = .temporary(reason: "provider answered \(response.status) without a message_id: \(excerpt)", retryAfterMilliseconds: nil)
            }
        case 429:
            let seconds = response.header("retry-after").flatMap { Int($0.trimmed) }
            self = .temporary(reason: "provider rate limited (429)", retryAfterMilliseconds: seconds.map { min(max($0, 0), 3600) * 1000 })
        case 400...499:
            self = .permanent(reason: "provider rejected the message (\(response.status)): \(excerpt)")
        default:
            self = .temporary(reason: "provider answered \(response.status): \(excerpt)", retryAfterMilliseconds: nil)
        }
    }

    private static let byteOrderMark: [UInt8] = [0xEF, 0xBB, 0xBF]
}
