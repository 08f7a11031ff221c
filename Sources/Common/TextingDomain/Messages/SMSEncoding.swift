/// The character set a message travels in; it decides how many characters fit in a segment
/// and therefore what the message costs.
public enum SMSEncoding: String, Sendable, Codable {
    /// The GSM 03.38 7-bit default alphabet: 160 characters per single segment.
    case gsm7 = "GSM-7"
    /// UTF-16 (strictly UCS-2 on old handsets): any character, but only 70 per single segment.
    case ucs2 = "UCS-2"
}
