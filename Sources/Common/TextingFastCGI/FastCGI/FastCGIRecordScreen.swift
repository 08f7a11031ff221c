/// Checks the start of a FastCGI connection (the begin-request record and the whole
/// parameter stream) before libfcgi reads it.
///
/// libfcgi trusts the name-value lengths in a parameter stream: a pair declaring two
/// 31-bit lengths whose sum overflows an `int` makes its allocation fail and its assertion
/// abort the process (seen with 2.4.2-2+deb12u1). So the server peeks at the bytes, without
/// consuming them, until this says they are complete and sound, and only then lets libfcgi
/// read exactly those bytes. The screen accepts what nginx sends and nothing fancier: one
/// responder `BEGIN_REQUEST`, then `PARAMS` records of the same request id up to the empty
/// one, each name-value pair inside the stream; anything else (management records, other
/// types or versions, interleaved ids, another role) closes the connection unanswered.
public enum FastCGIRecordScreen {
    public enum Verdict: Equatable, Sendable {
        /// The parameters are complete and every length in them is inside them.
        case complete
        /// Not decided yet: at least this many bytes are needed.
        case needMore(Int)
        /// Not a request we let libfcgi read; why, for the log.
        case refused(String)
    }

    /// The most the begin record and the parameter stream may take (nginx's headers are at
    /// most about 33 KiB), and so the most that is peeked at.
    public static let maximumBytes = 128 * 1024

    private static let version: UInt8 = 1
    private static let beginRequest: UInt8 = 1
    private static let params: UInt8 = 4
    private static let responder = 1

    /// Judges the first bytes of a connection.
    public static func screen(_ bytes: [UInt8]) -> Verdict {
        func header(at offset: Int) -> (version: UInt8, type: UInt8, requestID: Int, contentLength: Int, paddingLength: Int) {
            (
                bytes[offset], bytes[offset + 1], Int(bytes[offset + 2]) << 8 | Int(bytes[offset + 3]),
                Int(bytes[offset + 4]) << 8 | Int(bytes[offset + 5]), Int(bytes[offset + 6])
            )
        }
        guard bytes.count >= 8 else { return .needMore(8) }
        let begin = header(at: 0)
        guard begin.version == version, begin.type == beginRequest, begin.requestID != 0, begin.contentLength == 8 else {
            return .refused("the connection does not start with a version 1 BEGIN_REQUEST record")
        }
        var offset = 8 + 8 + begin.paddingLength
        guard bytes.count >= offset else { return .needMore(offset) }
        guard Int(bytes[8]) << 8 | Int(bytes[9]) == responder else { return .refused("the role is not RESPONDER") }

        var parameters: [UInt8] = []
        while true {
            guard offset + 8 <= maximumBytes else { return .refused("the parameters are over \(maximumBytes) bytes") }
            guard bytes.count >= offset + 8 else { return .needMore(offset + 8) }
            let record = header(at: offset)
            guard record.version == version, record.type == params, record.requestID == begin.requestID else {
                return .refused("a record other than PARAMS of the request came before the parameters ended")
            }
            let end = offset + 8 + record.contentLength + record.paddingLength
            guard end <= maximumBytes else { return .refused("the parameters are over \(maximumBytes) bytes") }
            guard bytes.count >= end else { return .needMore(end) }
            if record.contentLength == 0 { return pairsFit(parameters) }
            parameters += bytes[(offset + 8)..<(offset + 8 + record.contentLength)]
            offset = end
        }
    }

    /// Every name-value pair's two lengths (one byte, or four with the top bit set) and its
    /// name and value lie inside the stream.
    private static func pairsFit(_ stream: [UInt8]) -> Verdict {
        var index = 0
        func length() -> Int? {
            guard index < stream.count else { return nil }
            guard stream[index] & 0x80 != 0 else {
                index += 1
                return Int(stream[index - 1])
            }
            guard index + 4 <= stream.count else { return nil }
            let value = stream[index..<(index + 4)].reduce(0) { $0 << 8 | Int($1) } & 0x7FFF_FFFF
            index += 4
            return value
        }
        while index < stream.count {
            guard let nameLength = length(), let valueLength = length(), nameLength + valueLength <= stream.count - index else {
                return .refused("a parameter's length reaches past the end of the parameters")
            }
            index += nameLength + valueLength
        }
        return .complete
    }
}
