/// Who carries out an operator action, for the audit log: an operator signed in to the
/// console (their name and the browser's address), or a person at `textingctl` (the login
/// name, no address).
public struct OperatorActor: Sendable, Equatable {
    /// The operator's name, or the login name.
    public let name: String
    /// `console` or `textingctl`.
    public let channel: Channel
    /// The browser's address as nginx saw it; nil for textingctl.
    public let remoteAddress: String?

    public enum Channel: String, Sendable, Equatable {
        case console, textingctl
    }

    public init(name: String, channel: Channel, remoteAddress: String?) {
        self.name = String(name.prefix(100))
        self.channel = channel
        self.remoteAddress = remoteAddress
    }
}
