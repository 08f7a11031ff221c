/// Where a message is in its life; the database stores the raw value and every status
/// change is checked against the one transition table below.
public enum MessageStatus: String, Sendable, Codable, CaseIterable {
    case queued, sending, sent, delivered, failed, invalid, canceled

    /// The only allowed moves. A delivery callback may overtake the sender's own `sent`
    /// update, so `sending` may jump straight to a final provider outcome.
    private static let transitions: [MessageStatus: Set<MessageStatus>] = [
        .queued: [.sending, .failed, .canceled],
        .sending: [.sent, .delivered, .failed, .invalid],
        .sent: [.delivered, .failed, .invalid],
    ]

    /// A terminal message is never touched again, so retries and callbacks can ignore it.
    public var isTerminal: Bool {
        Self.transitions[self, default: []].isEmpty
    }

    /// Guards every status update so a late or duplicate event cannot move a message backwards.
    public func canTransition(to next: MessageStatus) -> Bool {
        Self.transitions[self, default: []].contains(next)
    }

    /// The statuses an update to `target` may start from, in declaration order, for building
    /// a conditional `UPDATE … WHERE status IN (…)`.
    public static func predecessors(of target: MessageStatus) -> [MessageStatus] {
        allCases.filter { $0.canTransition(to: target) }
    }
}
