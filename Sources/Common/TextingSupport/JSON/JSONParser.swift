/// A strict RFC 8259 parser from UTF-8 bytes to `JSONValue`.
///
/// It replaces `JSONDecoder`, which cost about 10% of the responder's CPU on a 100-byte body
/// and accepted trailing commas and duplicate keys. Anything RFC 8259 does not allow is
/// rejected with a `JSONParseError` whose reason names the problem and its byte offset
/// (counted from 0), and never quotes more than a few dozen characters of the input, because
/// the reason goes back to the client in a 400 problem document.
///
/// It works on the bytes in place: an unescaped string becomes a `String` in one copy of its
/// slice, after the parser has validated its UTF-8 itself, and a number is checked against
/// the grammar by hand before it is converted.
struct JSONParser {
    /// How deeply arrays and objects may nest. The parser recurses once per level, so this
    /// bounds its stack use; request bodies nest two or three levels.
    static let maximumDepth = JSONValue.maximumNestingDepth

    /// Keys quoted in an error are cut to this many characters.
    private static let quotedKeyLimit = 32

    private let bytes: UnsafeBufferPointer<UInt8>
    private var index = 0
    /// Collects strings that contain escapes; kept between strings so that its storage is reused.
    private var scratch: [UInt8] = []

    private init(bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
    }

    /// Parses exactly one JSON value, with optional whitespace around it, from UTF-8 text.
    static func parse(_ bytes: UnsafeBufferPointer<UInt8>) throws(JSONParseError) -> JSONValue {
        var parser = JSONParser(bytes: bytes)
        return try parser.parseDocument()
    }

    // MARK: - Structure

    private mutating func parseDocument() throws(JSONParseError) -> JSONValue {
        if bytes.count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF {
            throw Self.error("byte order mark (U+FEFF)", at: 0, hint: "send UTF-8 JSON without a BOM")
        }
        skipWhitespace()
        guard index < bytes.count else {
            throw JSONParseError(reason: bytes.isEmpty ? "empty document" : "empty document (only whitespace)", byteOffset: 0)
        }
        let value = try parseValue(depth: 0)
        skipWhitespace()
        guard index == bytes.count else {
            throw Self.error("unexpected \(Self.describe(bytes[index])) after the JSON value", at: index)
        }
        return value
    }

    /// Parses the value at `index`, which the caller has moved past any whitespace.
    private mutating func parseValue(depth: Int) throws(JSONParseError) -> JSONValue {
        guard index < bytes.count else { throw endOfInput("expected a value") }
        switch bytes[index] {
        case UInt8(ascii: "{"): return try parseObject(depth: depth + 1)
        case UInt8(ascii: "["): return try parseArray(depth: depth + 1)
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try parseNumber())
        case UInt8(ascii: "t"):
            try parseLiteral("true")
            return .bool(true)
        case UInt8(ascii: "f"):
            try parseLiteral("false")
            return .bool(false)
        case UInt8(ascii: "n"):
            try parseLiteral("null")
            return .null
        case UInt8(ascii: "+"): throw Self.error("a number must not start with `+`", at: index)
        case UInt8(ascii: "."): throw Self.error("a number must start with a digit, not `.`", at: index)
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"):
            throw unknownLiteral(at: index)
        case let byte: throw Self.error("expected a value, got \(Self.describe(byte))", at: index)
        }
    }

    private mutating func parseObject(depth: Int) throws(JSONParseError) -> JSONValue {
        let start = index
        guard depth <= Self.maximumDepth else {
            throw Self.error("nesting deeper than \(Self.maximumDepth) levels", at: start)
        }
        index += 1
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
            index += 1
            return .object([:])
        }
        // Request bodies have two to five members; starting with room for four skips the
        // regrowth from one to two to four (measured: about 20% of a typical body's parse).
        var members = [String: JSONValue](minimumCapacity: 4)
        while true {
            // Here the object has just opened or a comma has just been read.
            guard index < bytes.count else { throw endOfInput("in object starting at byte \(start)") }
            guard bytes[index] == UInt8(ascii: "\"") else {
                if bytes[index] == UInt8(ascii: "}") { throw Self.error("trailing comma in object", at: index) }
                throw Self.error("expected a string key in object, got \(Self.describe(bytes[index]))", at: index)
            }
            let keyStart = index
            let key = try parseString()
            skipWhitespace()
            guard index < bytes.count else { throw endOfInput("expected `:` after object key") }
            guard bytes[index] == UInt8(ascii: ":") else {
                throw Self.error("expected `:` after object key, got \(Self.describe(bytes[index]))", at: index)
            }
            index += 1
            skipWhitespace()
            // `[String: JSONValue]` can hold only one value per key, and a client sending two
            // means something we cannot guess, so a second one is an error, not a silent winner.
            // Swift compares keys by canonical equivalence, so "é" and "e\u{301}" count as the
            // same key too. One `updateValue` hashes the key once; the cost is that a bad value
            // after a duplicate key is reported before the duplicate.
            if members.updateValue(try parseValue(depth: depth), forKey: key) != nil {
                throw Self.error("duplicate key \(Self.quote(key))", at: keyStart)
            }
            skipWhitespace()
            guard index < bytes.count else { throw endOfInput("in object starting at byte \(start)") }
            switch bytes[index] {
            case UInt8(ascii: ","):
                index += 1
                skipWhitespace()
            case UInt8(ascii: "}"):
                index += 1
                return .object(members)
            case let byte:
                throw Self.error("expected `,` or `}` in object, got \(Self.describe(byte))", at: index)
            }
        }
    }

    private mutating func parseArray(depth: Int) throws(JSONParseError) -> JSONValue {
        let start = index
        guard depth <= Self.maximumDepth else {
            throw Self.error("nesting deeper than \(Self.maximumDepth) levels", at: start)
        }
        index += 1
        skipWhitespace()
        var elements: [JSONValue] = []
        if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
            index += 1
            return .array(elements)
        }
        while true {
            // Here the array has just opened or a comma has just been read.
            guard index < bytes.count else { throw endOfInput("in array starting at byte \(start)") }
            if bytes[index] == UInt8(ascii: "]") { throw Self.error("trailing comma in array", at: index) }
            elements.append(try parseValue(depth: depth))
            skipWhitespace()
            guard index < bytes.count else { throw endOfInput("in array starting at byte \(start)") }
            switch bytes[index] {
            case UInt8(ascii: ","):
                index += 1
                skipWhitespace()
            case UInt8(ascii: "]"):
                index += 1
                return .array(elements)
            case let byte:
                throw Self.error("expected `,` or `]` in array, got \(Self.describe(byte))", at: index)
            }
        }
    }

    /// Only the four whitespace bytes RFC 8259 allows: space, tab, LF and CR.
    private mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return
            }
        }
    }

    // MARK: - Literals

    private mutating func parseLiteral(_ literal: StaticString) throws(JSONParseError) {
        let start = index
        let expected = UnsafeBufferPointer(start: literal.utf8Start, count: literal.utf8CodeUnitCount)
        for offset in 0..<expected.count {
            guard start + offset < bytes.count else {
                throw JSONParseError(reason: "unexpected end of input at byte \(bytes.count) (expected `\(literal)`)", byteOffset: bytes.count)
            }
            guard bytes[start + offset] == expected[offset] else { throw unknownLiteral(at: start) }
        }
        index = start + expected.count
    }

    /// A bare word such as `NaN`, `Infinity`, `True` or `undefined`.
    private func unknownLiteral(at start: Int) -> JSONParseError {
        var end = start
        while end < bytes.count, end - start < 16, Self.isWordByte(bytes[end]) { end += 1 }
        let word = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<end]), as: UTF8.self)
        let ellipsis = end < bytes.count && Self.isWordByte(bytes[end]) ? "…" : ""
        return Self.error("unknown literal `\(word)\(ellipsis)`", at: start, hint: "JSON has only true, false and null")
    }

    private static func isWordByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"):
            true
        default: false
        }
    }

    // MARK: - Numbers

    /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`, as a `Double`.
    private mutating func parseNumber() throws(JSONParseError) -> Double {
        let start = index
        var position = index
        let isNegative = bytes[position] == UInt8(ascii: "-")
        if isNegative { position += 1 }
        guard position < bytes.count else { throw endOfInput("expected a digit after `-`") }
        let integerStart = position
        switch bytes[position] {
        case UInt8(ascii: "0"):
            position += 1
            if position < bytes.count, Self.isDigit(bytes[position]) {
                throw Self.error("leading zero in number", at: start)
            }
        case UInt8(ascii: "1")...UInt8(ascii: "9"):
            position += 1
            while position < bytes.count, Self.isDigit(bytes[position]) { position += 1 }
        case UInt8(ascii: "I"):
            throw Self.error("-Infinity is not a JSON number", at: start)
        case let byte:
            throw Self.error("expected a digit after `-`, got \(Self.describe(byte))", at: position)
        }
        let integerDigits = position - integerStart
        var isInteger = true
        if position < bytes.count, bytes[position] == UInt8(ascii: ".") {
            isInteger = false
            position += 1
            try requireDigit(at: position, "after the decimal point")
            while position < bytes.count, Self.isDigit(bytes[position]) { position += 1 }
        }
        if position < bytes.count, bytes[position] | 0x20 == UInt8(ascii: "e") {
            isInteger = false
            position += 1
            if position < bytes.count, bytes[position] == UInt8(ascii: "+") || bytes[position] == UInt8(ascii: "-") {
                position += 1
            }
            try requireDigit(at: position, "in the exponent")
            while position < bytes.count, Self.isDigit(bytes[position]) { position += 1 }
        }
        index = position

        // Up to 15 digits an integer is exact in a Double, so it needs no decimal conversion.
        if isInteger, integerDigits <= 15 {
            var magnitude: Int64 = 0
            for offset in integerStart..<position {
                magnitude = magnitude * 10 + Int64(bytes[offset] &- UInt8(ascii: "0"))
            }
            return isNegative ? -Double(magnitude) : Double(magnitude)
        }
        // The grammar is checked, so the standard library's conversion sees only JSON numbers.
        let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<position]), as: UTF8.self)
        guard let value = Double(text), value.isFinite else {
            throw Self.error("number out of range", at: start, hint: "beyond ±1.8e308")
        }
        return value
    }

    private func requireDigit(at position: Int, _ place: String) throws(JSONParseError) {
        guard position < bytes.count else { throw endOfInput("expected a digit \(place)") }
        guard Self.isDigit(bytes[position]) else {
            throw Self.error("expected a digit \(place), got \(Self.describe(bytes[position]))", at: position)
        }
    }

    private static func isDigit(_ byte: UInt8) -> Bool {
        byte &- UInt8(ascii: "0") < 10
    }

    // MARK: - Strings

    /// Parses the string whose opening quote is at `index`.
    private mutating func parseString() throws(JSONParseError) -> String {
        let contentStart = index + 1
        var position = contentStart
        while position < bytes.count {
            let byte = bytes[position]
            if byte == UInt8(ascii: "\"") {
                // The bytes are valid UTF-8 (checked below), so this is one validating copy.
                let value = String(decoding: UnsafeBufferPointer(rebasing: bytes[contentStart..<position]), as: UTF8.self)
                index = position + 1
                return value
            } else if byte == UInt8(ascii: "\\") {
                return try parseEscapedString(contentStart: contentStart, firstEscape: position)
            } else if byte < 0x20 {
                throw Self.controlCharacterError(byte, at: position)
            } else if byte < 0x80 {
                position += 1
            } else {
                position = try endOfUTF8Sequence(at: position)
            }
        }
        throw endOfInput("in string starting at byte \(index)")
    }

    /// The slow path for a string with escapes: its bytes are collected in `scratch`.
    private mutating func parseEscapedString(contentStart: Int, firstEscape: Int) throws(JSONParseError) -> String {
        scratch.removeAll(keepingCapacity: true)
        scratch.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[contentStart..<firstEscape]))
        var position = firstEscape
        while position < bytes.count {
            let byte = bytes[position]
            if byte == UInt8(ascii: "\"") {
                index = position + 1
                return String(decoding: scratch, as: UTF8.self)
            } else if byte == UInt8(ascii: "\\") {
                position = try appendEscape(at: position)
            } else if byte < 0x20 {
                throw Self.controlCharacterError(byte, at: position)
            } else if byte < 0x80 {
                scratch.append(byte)
                position += 1
            } else {
                let end = try endOfUTF8Sequence(at: position)
                scratch.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[position..<end]))
                position = end
            }
        }
        throw endOfInput("in string starting at byte \(contentStart - 1)")
    }

    /// Appends what the escape at `position` (a backslash) stands for; returns the index after it.
    private mutating func appendEscape(at position: Int) throws(JSONParseError) -> Int {
        guard position + 1 < bytes.count else { throw endOfInput("in escape sequence") }
        let unescaped: UInt8
        switch bytes[position + 1] {
        case UInt8(ascii: "\""): unescaped = 0x22
        case UInt8(ascii: "\\"): unescaped = 0x5C
        case UInt8(ascii: "/"): unescaped = 0x2F
        case UInt8(ascii: "b"): unescaped = 0x08
        case UInt8(ascii: "f"): unescaped = 0x0C
        case UInt8(ascii: "n"): unescaped = 0x0A
        case UInt8(ascii: "r"): unescaped = 0x0D
        case UInt8(ascii: "t"): unescaped = 0x09
        case UInt8(ascii: "u"): return try appendUnicodeEscape(at: position)
        case let byte:
            let escape = (0x21...0x7E).contains(byte) ? "`\\\(Character(Unicode.Scalar(byte)))`" : "`\\` followed by \(Self.describe(byte))"
            throw Self.error("invalid escape \(escape) in string", at: position)
        }
        scratch.append(unescaped)
        return position + 2
    }

    /// `\uXXXX`, or a `\uD83D\uDE00` surrogate pair combined into one scalar.
    private mutating func appendUnicodeEscape(at position: Int) throws(JSONParseError) -> Int {
        let unit = try hexQuad(at: position + 2)
        var end = position + 6
        let scalar: UInt32
        switch unit {
        case 0xD800...0xDBFF:
            guard end + 1 < bytes.count, bytes[end] == UInt8(ascii: "\\"), bytes[end + 1] == UInt8(ascii: "u") else {
                throw Self.error("lone high surrogate `\\u\(Self.hex(unit))`", at: position, hint: "a `\\uDC00`-`\\uDFFF` escape must follow")
            }
            let low = try hexQuad(at: end + 2)
            guard (0xDC00...0xDFFF).contains(low) else {
                throw Self.error(
                    "high surrogate `\\u\(Self.hex(unit))` followed by `\\u\(Self.hex(low))`", at: position, hint: "a `\\uDC00`-`\\uDFFF` escape must follow")
            }
            scalar = 0x10000 + ((UInt32(unit) - 0xD800) << 10) + (UInt32(low) - 0xDC00)
            end += 6
        case 0xDC00...0xDFFF:
            throw Self.error("lone low surrogate `\\u\(Self.hex(unit))`", at: position, hint: "it must follow a `\\uD800`-`\\uDBFF` escape")
        default:
            scalar = UInt32(unit)
        }
        appendUTF8(scalar)
        return end
    }

    /// The four hex digits of a `\u` escape starting at `position`.
    private func hexQuad(at position: Int) throws(JSONParseError) -> UInt16 {
        var value: UInt16 = 0
        for offset in position..<position + 4 {
            guard offset < bytes.count else { throw endOfInput("in `\\u` escape") }
            let byte = bytes[offset]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default:
                throw Self.error("invalid `\\u` escape", at: position - 2, hint: "expected 4 hex digits, got \(Self.describe(byte))")
            }
            value = value << 4 | UInt16(digit)
        }
        return value
    }

    private mutating func appendUTF8(_ scalar: UInt32) {
        switch scalar {
        case 0..<0x80:
            scratch.append(UInt8(scalar))
        case 0x80..<0x800:
            scratch.append(UInt8(0xC0 | scalar >> 6))
            scratch.append(UInt8(0x80 | scalar & 0x3F))
        case 0x800..<0x10000:
            scratch.append(UInt8(0xE0 | scalar >> 12))
            scratch.append(UInt8(0x80 | scalar >> 6 & 0x3F))
            scratch.append(UInt8(0x80 | scalar & 0x3F))
        default:
            scratch.append(UInt8(0xF0 | scalar >> 18))
            scratch.append(UInt8(0x80 | scalar >> 12 & 0x3F))
            scratch.append(UInt8(0x80 | scalar >> 6 & 0x3F))
            scratch.append(UInt8(0x80 | scalar & 0x3F))
        }
    }

    /// Checks the multi-byte UTF-8 sequence starting at `position` (a byte >= 0x80) against
    /// RFC 3629's table, which excludes overlong forms, surrogates and anything above U+10FFFF;
    /// returns the index after it.
    private func endOfUTF8Sequence(at position: Int) throws(JSONParseError) -> Int {
        let lead = bytes[position]
        let length: Int
        // The range the second byte must fall in; the later ones are always 0x80...0xBF.
        var secondRange: ClosedRange<UInt8> = 0x80...0xBF
        switch lead {
        case 0xC2...0xDF: length = 2
        case 0xE0:
            length = 3
            secondRange = 0xA0...0xBF
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED:
            length = 3
            secondRange = 0x80...0x9F
        case 0xF0:
            length = 4
            secondRange = 0x90...0xBF
        case 0xF1...0xF3: length = 4
        case 0xF4:
            length = 4
            secondRange = 0x80...0x8F
        case 0x80...0xBF:
            throw Self.error("invalid UTF-8", at: position, hint: "continuation byte 0x\(Self.hex(lead)) without a lead byte")
        case 0xC0, 0xC1:
            throw Self.error("invalid UTF-8", at: position, hint: "overlong encoding")
        default:
            throw Self.error("invalid UTF-8", at: position, hint: "byte 0x\(Self.hex(lead)) never appears in UTF-8")
        }
        guard position + 1 < bytes.count, (0x80...0xBF).contains(bytes[position + 1]) else {
            throw Self.error("invalid UTF-8", at: position, hint: "truncated sequence")
        }
        guard secondRange.contains(bytes[position + 1]) else {
            switch lead {
            case 0xED: throw Self.error("invalid UTF-8", at: position, hint: "a UTF-16 surrogate encoded in UTF-8")
            case 0xF4: throw Self.error("invalid UTF-8", at: position, hint: "code point above U+10FFFF")
            default: throw Self.error("invalid UTF-8", at: position, hint: "overlong encoding")
            }
        }
        for offset in position + 2..<position + length {
            guard offset < bytes.count, (0x80...0xBF).contains(bytes[offset]) else {
                throw Self.error("invalid UTF-8", at: position, hint: "truncated sequence")
            }
        }
        return position + length
    }

    // MARK: - Errors

    /// "<problem> at byte <offset>", then the hint in parentheses.
    private static func error(_ problem: String, at offset: Int, hint: String? = nil) -> JSONParseError {
        JSONParseError(reason: "\(problem) at byte \(offset)" + (hint.map { " (\($0))" } ?? ""), byteOffset: offset)
    }

    private func endOfInput(_ context: String) -> JSONParseError {
        JSONParseError(reason: "unexpected end of input at byte \(bytes.count) (\(context))", byteOffset: bytes.count)
    }

    private static func controlCharacterError(_ byte: UInt8, at offset: Int) -> JSONParseError {
        error("unescaped control character 0x\(hex(byte)) in string", at: offset, hint: "escape it, e.g. `\\n` or `\\u00\(hex(byte))`")
    }

    /// A byte as a reader can see it: `x` for printable ASCII, else its hex value.
    private static func describe(_ byte: UInt8) -> String {
        if (0x21...0x7E).contains(byte) {
            return "`\(Character(Unicode.Scalar(byte)))`"
        }
        return "byte 0x\(hex(byte))"
    }

    private static func hex<Value: BinaryInteger>(_ value: Value) -> String {
        let digits = String(value, radix: 16, uppercase: true)
        let width = MemoryLayout<Value>.size * 2
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }

    /// A key from the input, cut short and with control characters replaced, so that an error
    /// never carries more than a few dozen characters of what the client sent.
    private static func quote(_ key: String) -> String {
        var shown = String(
            key.prefix(quotedKeyLimit).unicodeScalars.map { scalar in
                scalar.value < 0x20 || scalar.value == 0x7F ? "\u{FFFD}" : Character(scalar)
            })
        if key.count > quotedKeyLimit { shown += "…" }
        return "`\(shown)`"
    }
}
