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
        let id = requestID.map { Self.keep($0, allowed: Self.isIDCharacter, limit: 64) } ?? ""
        let verb = Self.keep(method, allowed: Self.isMethodCharacter, limit: 16)
        let milliseconds = (max(0, self.milliseconds) * 1000).rounded() / 1000
        return
            "request_id=\(id.isEmpty ? "-" : id) method=\(verb.isEmpty ? "-" : verb) path=\(Self.redactedPath(path)) status=\(status) duration_ms=\(milliseconds)"
    }

    /// The path with every segment that is neither a word (letters, `_`, `-`, `.`) nor a UUID
    /// replaced by `*`: a number or an id a client typed into the path is not logged; the
    /// routes and our message ids are. At most 8 segments.
    public static func redactedPath(_ path: String) -> String {
        let segments = path.split(separator: "/", omittingEmptySubsequences: true)
        guard !segments.isEmpty else { return "/" }
        var shown = segments.prefix(8).map { segment -> String in
            if isUUID(segment) { return String(segment) }
            if segment.count <= 40, segment.unicodeScalars.allSatisfy(isWordCharacter) { return String(segment) }
            return "*"
        }
        if segments.count > 8 { shown.append("…") }
        return "/" + shown.joined(separator: "/")
    }

    static func isUUID(_ text: Substring) -> Bool {
        let scalars = Array(text.unicodeScalars)
        guard scalars.count == 36 else { return false }
        for (index, scalar) in scalars.enumerated() {
            if [8, 13, 18, 23].contains(index) {
                guard scalar == "-" else { return false }
            } else {
                guard ("0"..."9").contains(scalar) || ("a"..."f").contains(scalar) || ("A"..."F").contains(scalar) else { return false }
            }
        }
        return true
    }

    private static func isWordCharacter(_ scalar: Unicode.Scalar) -> Bool {
        ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) || scalar == "_" || scalar == "-" || scalar == "."
    }

    private static func isIDCharacter(_ scalar: Unicode.Scalar) -> Bool {
        ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) || ("0"..."9").contains(scalar) || scalar == "-"
    }

    private static func isMethodCharacter(_ scalar: Unicode.Scalar) -> Bool {
        ("A"..."Z").contains(scalar) || ("a"..."z").contains(scalar)
    }

    private static func keep(_ text: String, allowed: (Unicode.Scalar) -> Bool, limit: Int) -> String {
        var kept = String.UnicodeScalarView()
        for scalar in text.unicodeScalars.prefix(limit) where allowed(scalar) { kept.append(scalar) }
        return String(kept)
    }
}
