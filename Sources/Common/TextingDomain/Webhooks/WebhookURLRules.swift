import TextingSupport

/// Where webhooks may go: https only unless `allowHTTP`, and by default only to public
/// addresses (`destinations`). The same rules check a URL when a client gives it and every
/// address the dispatcher connects to.
public struct WebhookURLRules: Sendable, Equatable {
    public var allowHTTP: Bool
    public var destinations: NetworkDestinationRules

    public init(allowHTTP: Bool = false, destinations: NetworkDestinationRules = NetworkDestinationRules()) {
        self.allowHTTP = allowHTTP
        self.destinations = destinations
    }
}
