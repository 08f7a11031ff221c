import TextingDomain
import TextingPostgres

/// `textingctl numbers reactivate`: an operator's way back for a number a provider reported
/// `invalid` (a recycled or mistyped number that is valid again). The messages it failed stay
/// failed; `textingctl messages requeue` sends one again.
public struct PhoneNumberReactivation {
    private let connection: PostgresConnection

    public init(connection: PostgresConnection) {
        self.connection = connection
    }

    public enum Outcome: Equatable, Sendable {
        /// It was inactive and is active now: new messages to it are accepted.
        case reactivated
        case alreadyActive
        /// No message was ever accepted for this number.
        case unknownNumber
    }

    public func reactivate(_ number: PhoneNumber) throws(PostgresError) -> Outcome {
        if try connection.execute(Self.reactivate, [number.e164]).affectedRows > 0 {
            return .reactivated
        }
        return try connection.execute(Self.find, [number.e164]).first == nil ? .unknownNumber : .alreadyActive
    }

    /// The row lock this takes orders it with `messages.accept` and the delivery callback's
    /// deactivation: whichever commits first, the other sees its result.
    static let reactivate = Query(
        "phone_numbers.reactivate",
        """
        UPDATE phone_numbers SET status = 'active', inactivated_at = NULL, updated_at = now()
        WHERE number = $1 AND status = 'inactive'
        """)
    static let find = Query("phone_numbers.find", "SELECT status::text AS status FROM phone_numbers WHERE number = $1")
}
