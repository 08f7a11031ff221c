/// Text from a peer made fit for a log line or a stored error detail: bounded, and with every
/// control character escaped, so that a CR/LF in a provider's answer cannot forge a log line
/// and a megabyte of it cannot flood the journal.
public enum SafeText {
    /// `text` with control characters (C0, DEL, C1, and the Unicode line and paragraph
    /// separators) written as `\u{…}`, and cut to at most `maximumBytes` UTF-8 bytes, with `…`
    /// when it was cut.
    public static func escaped<S: StringProtocol>(_ text: S, maximumBytes: Int = 4096) -> String {
        // The common case (every log line passes here): nothing to change.
        if text.utf8.count <= maximumBytes && !containsControlCharacters(text) { return String(text) }
        var result = ""
        var bytes = 0
        for scalar in text.unicodeScalars {
            let piece = isControl(scalar) ? "\\u{\(String(scalar.value, radix: 16))}" : String(scalar)
            let count = piece.utf8.count
            if bytes + count > maximumBytes {
                result += "…"
                break
            }
            result += piece
            bytes += count
        }
        return result
    }

    /// The start of a body a peer sent, for a log line or an error detail: decoded as UTF-8
    /// when it is valid, else printable ASCII with every other byte as `\xNN`; escaped and
    /// bounded as `escaped` does.
    public static func excerpt(_ bytes: some Collection<UInt8>, maximumBytes: Int = 200) -> String {
        // Enough input for the output's bound, plus room to finish a multi-byte character.
        let head = Array(bytes.prefix(maximumBytes + 4))
        let wasCut = head.count < bytes.count
        var text: String
        if let valid = String(validating: head, as: UTF8.self) {
            text = valid
        } else if wasCut, let valid = (1...3).lazy.compactMap({ String(validating: head.dropLast($0), as: UTF8.self) }).first {
            // Only the cut split a character.
            text = valid
        } else {
            text = ""
            for byte in head {
                if (0x20..<0x7F).contains(byte) {
                    text.unicodeScalars.append(Unicode.Scalar(byte))
                } else {
                    text += "\\x" + (byte < 0x10 ? "0" : "") + String(byte, radix: 16)
                }
            }
        }
        let escaped = escaped(text, maximumBytes: maximumBytes)
        return wasCut && !escaped.hasSuffix("…") ? escaped + "…" : escaped
    }

    /// `bytes` with every occurrence of each secret's text replaced by its label, e.g. a
    /// phone number by `[number]`: for quoting what a peer sent, when it may echo what we sent
    /// it. Secrets are looked for as they are and as a JSON string would spell them.
    public static func masking(_ bytes: [UInt8], _ secrets: [(label: String, text: String)]) -> [UInt8] {
        var result = bytes
        for (label, text) in secrets where !text.isEmpty {
            for spelling in Set([Array(text.utf8), Array(JSONValue.string(text).serialized().dropFirst().dropLast())]) {
                result = replacing(spelling, with: Array(label.utf8), in: result)
            }
        }
        return result
    }

    private static func replacing(_ needle: [UInt8], with replacement: [UInt8], in haystack: [UInt8]) -> [UInt8] {
        guard !needle.isEmpty, haystack.count >= needle.count else { return haystack }
        var result: [UInt8] = []
        result.reserveCapacity(haystack.count)
        var index = 0
        while index < haystack.count {
            if haystack[index] == needle[0], index + needle.count <= haystack.count, haystack[index..<(index + needle.count)].elementsEqual(needle) {
                result += replacement
                index += needle.count
            } else {
                result.append(haystack[index])
                index += 1
            }
        }
        return result
    }

    /// Whether `text` holds a character `escaped` would escape.
    public static func containsControlCharacters<S: StringProtocol>(_ text: S) -> Bool {
        text.unicodeScalars.contains(where: isControl)
    }

    private static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0..<0x20, 0x7F...0x9F, 0x2028, 0x2029: true
        default: false
        }
    }
}
