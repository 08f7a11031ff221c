/// The outcome a provider reports in a delivery callback; only final outcomes are accepted,
/// so a callback can never reopen a message.
public enum DeliveryReport: String, Sendable, CaseIterable {
    case delivered, failed, invalid

    /// The status the message moves to when this report is applied.
    public var messageStatus: MessageStatus {
        switch self {
        case .delivered: .delivered
        case .failed: .failed
        case .invalid: .invalid
        }
    }
}
