/// Who a message says it is from (`from`): an E.164 number (`+15555550100`), a short code
/// (3 to 8 digits) or an alphanumeric sender id (1 to 11 letters, digits, spaces, `-` or `.`,
/// with at least one letter, as GSM networks display it). A key may send only with the
/// senders an operator allowed it.
public struct SenderID: Sendable, Hashable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        case phoneNumber = "phone_number"
        case shortCode = "short_code"
        case alphanumeric
    }

    public let text: String
    public let kind: Kind

    public var description: String { text }

    public init(validating text: String, field: String = "from") throws(ValidationError) {
        let bytes = Array(text.utf8)
        let isDigit: (UInt8) -> Bool = { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }
        let isLetter: (UInt8) -> Bool = { (UInt8(ascii: "a")...UInt8(ascii: "z")).contains($0 | 0x20) }
        if bytes.first == UInt8(ascii: "+") {
            let digits = bytes.dropFirst()
            guard (7...15).contains(digits.count), digits.allSatisfy(isDigit), digits.first != UInt8(ascii: "0") else {
                throw Self.invalid(text, field: field)
            }
            kind = .phoneNumber
        } else if !bytes.isEmpty, bytes.allSatisfy(isDigit) {
            guard (3...8).contains(bytes.count) else { throw Self.invalid(text, field: field) }
            kind = .shortCode
        } else {
            let allowed: (UInt8) -> Bool = { isDigit($0) || isLetter($0) || $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: ".") }
            guard (1...11).contains(bytes.count), bytes.allSatisfy(allowed), bytes.contains(where: isLetter),
                bytes.first != UInt8(ascii: " "), bytes.last != UInt8(ascii: " ")
            else {
                throw Self.invalid(text, field: field)
            }
            kind = .alphanumeric
        }
        self.text = text
    }

    private static func invalid(_ text: String, field: String) -> ValidationError {
        ValidationError(
            .invalidSender,
            "`\(field)` must be an E.164 number (+15555550100), a short code (3 to 8 digits) or an alphanumeric sender id (1 to 11 letters, digits, spaces, - or ., with a letter); got `\(text.prefix(40))`.",
            field: field)
    }
}
