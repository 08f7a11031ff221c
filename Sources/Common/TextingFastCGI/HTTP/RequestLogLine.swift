/// The one line a FastCGI process logs per request: nginx's request id, method, path, status
/// and how long the process took. Never the query string or the body (they hold phone
/// numbers and messages); path segments that could carry one are masked.
public struct RequestLogLine: Sendable, Equatable {
    public let requestID: String?
    public let method: String
    public let path: String
    public let status: Int
    public let milliseconds: Double

    public init(requestID: String?, method: String, path: String, status: Int, milliseconds: Double) {
        self.requestID = requestID
        self.method = method
        self.path = path
        self.status = status
        self.milliseconds = milliseconds
    }

    /// `request_id=… method=GET path=/messages/… status=200 duration_ms=1.234`
    public var text: String {
        let id = Self.keep(requestID ?? "", allowed: Self.isIDCharacter, limit: 64)
        let verb = Self.keep(method, allowed: Self.isMethodCharacter, limit: 16)
        let milliseconds = (max(0, self.milliseconds) * 1000).rounded() / 1000
        return
            "request_id=\(id.isEmpty ? "-" : id) method=\(verb.isEmpty ? "-" : verb) path=\(Self.redactedPath(path)) status=\(status) duration_ms=\(milliseconds)"
    }

    /// The path with every segment that is neither a word (letters, `_`, `-`, `.`) nor a UUID
    /// replaced by `*`: a number or an id a client typed into the path is not logged; the
    /// routes and our message ids are. At most 8 segments.
    ///
    /// Worked on the path's UTF-8 bytes (every request logs one): everything kept is ASCII, so
    /// a segment with any other byte is masked whole.
    public static func redactedPath(_ path: String) -> String {
        let bytes = Array(path.utf8)
        var shown: [UInt8] = []
        shown.reserveCapacity(bytes.count + 4)
        var segments = 0
        var start = 0
        while start < bytes.count {
            guard bytes[start] != slash else {
                start += 1
                continue
            }
            var end = start
            while end < bytes.count, bytes[end] != slash { end += 1 }
            guard segments < 8 else {
                shown += Array("/…".utf8)
                break
            }
            let segment = bytes[start..<end]
            shown.append(slash)
            if isUUID(segment) || (segment.count <= 40 && segment.allSatisfy(isWordByte)) {
                shown += segment
            } else {
                shown.append(UInt8(ascii: "*"))
            }
            segments += 1
            start = end
        }
        return shown.isEmpty ? "/" : String(decoding: shown, as: UTF8.self)
    }

    private static let slash = UInt8(ascii: "/")

    static func isUUID(_ segment: ArraySlice<UInt8>) -> Bool {
        guard segment.count == 36 else { return false }
        for (offset, byte) in segment.enumerated() {
            if offset == 8 || offset == 13 || offset == 18 || offset == 23 {
                guard byte == UInt8(ascii: "-") else { return false }
            } else {
                guard isHexDigit(byte) else { return false }
            }
        }
        return true
    }

    private static func isHexDigit(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte)
            || (UInt8(ascii: "A")...UInt8(ascii: "F")).contains(byte)
    }

    private static func isLetter(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
    }

    private static func isWordByte(_ byte: UInt8) -> Bool {
        isLetter(byte) || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-") || byte == UInt8(ascii: ".")
    }

    private static func isIDCharacter(_ byte: UInt8) -> Bool {
        isLetter(byte) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: "-")
    }

    private static func isMethodCharacter(_ byte: UInt8) -> Bool {
        isLetter(byte)
    }

    /// The ASCII characters `allowed` keeps among the first `limit` characters (Unicode
    /// scalars) of `text`; anything else is left out.
    private static func keep(_ text: String, allowed: (UInt8) -> Bool, limit: Int) -> String {
        var kept: [UInt8] = []
        var scalars = 0
        for byte in text.utf8 {
            if byte & 0xC0 != 0x80 {  // not a continuation byte: a scalar starts here
                scalars += 1
                if scalars > limit { break }
            }
            if byte < 0x80, allowed(byte) { kept.append(byte) }
        }
        return String(decoding: kept, as: UTF8.self)
    }
}
