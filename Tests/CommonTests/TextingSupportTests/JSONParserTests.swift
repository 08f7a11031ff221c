import TextingSupport
import XCTest

/// The strict RFC 8259 rules of `JSONParser`, through `JSONValue.parse`.
final class JSONParserTests: XCTestCase {
    private func parse(_ text: String) throws -> JSONValue {
        try JSONValue.parse(Array(text.utf8))
    }

    private func parse(_ bytes: [UInt8]) throws -> JSONValue {
        try JSONValue.parse(bytes)
    }

    /// Asserts the bytes are rejected with a reason containing every fragment (and, if given,
    /// at `offset`); returns the reason.
    @discardableResult
    private func assertRejected(
        _ bytes: [UInt8], mentioning fragments: [String], at offset: Int? = nil,
        file: StaticString = #filePath, line: UInt = #line
    ) -> String {
        let label = String(decoding: bytes.prefix(80), as: UTF8.self).debugDescription
        do {
            let value = try JSONValue.parse(bytes)
            XCTFail("\(label) was accepted as \(value)", file: file, line: line)
            return ""
        } catch {
            for fragment in fragments {
                XCTAssertTrue(error.reason.contains(fragment), "\(label): reason \"\(error.reason)\" should mention \"\(fragment)\"", file: file, line: line)
            }
            if let offset {
                XCTAssertEqual(error.byteOffset, offset, "\(label): \(error.reason)", file: file, line: line)
                XCTAssertTrue(
                    error.reason.contains("at byte \(offset)"), "\(label): reason \"\(error.reason)\" should name byte \(offset)", file: file, line: line)
            }
            // jsonObject() keeps 120 characters of the reason for the problem document.
            XCTAssertLessThanOrEqual(error.reason.count, 120, "\(label): \(error.reason)", file: file, line: line)
            return error.reason
        }
    }

    @discardableResult
    private func assertRejected(
        _ text: String, mentioning fragments: String..., at offset: Int? = nil,
        file: StaticString = #filePath, line: UInt = #line
    ) -> String {
        assertRejected(Array(text.utf8), mentioning: fragments, at: offset, file: file, line: line)
    }

    private func number(_ text: String, file: StaticString = #filePath, line: UInt = #line) throws -> Double {
        guard case .number(let value) = try parse(text) else {
            XCTFail("\(text) is not a number", file: file, line: line)
            return .nan
        }
        return value
    }

    private func string(_ bytes: [UInt8], file: StaticString = #filePath, line: UInt = #line) throws -> String {
        guard case .string(let value) = try parse(bytes) else {
            XCTFail("not a string", file: file, line: line)
            return ""
        }
        return value
    }

    private func quoted(_ bytes: [UInt8]) -> [UInt8] { [0x22] + bytes + [0x22] }

    // MARK: - Document

    func testTypicalMessageBodyParses() throws {
        let value = try parse(#"{"to_number":"+15555550123","message":"Benchmark message: your code is 482913. It expires in 10 minutes."}"#)
        XCTAssertEqual(value, ["to_number": "+15555550123", "message": "Benchmark message: your code is 482913. It expires in 10 minutes."])
    }

    func testAnyValueMayBeTheWholeDocument() throws {
        XCTAssertEqual(try parse("null"), .null)
        XCTAssertEqual(try parse("true"), .bool(true))
        XCTAssertEqual(try parse("false"), .bool(false))
        XCTAssertEqual(try parse("42"), .number(42))
        XCTAssertEqual(try parse(#""hi""#), .string("hi"))
        XCTAssertEqual(try parse("[]"), .array([]))
        XCTAssertEqual(try parse("{}"), .object([:]))
    }

    func testOnlySpaceTabLineFeedAndCarriageReturnAreWhitespace() throws {
        XCTAssertEqual(try parse(" \t\n\r{ \t\n\r\"a\" \t\n\r: \t\n\r[ 1 \t\n\r, 2 ] \t\n\r} \t\n\r"), ["a": [1, 2]])
        assertRejected([0x0C] + Array("{}".utf8), mentioning: ["byte 0x0C"], at: 0)  // form feed
        assertRejected([0x0B] + Array("{}".utf8), mentioning: ["byte 0x0B"], at: 0)  // vertical tab
        assertRejected([0xC2, 0xA0] + Array("{}".utf8), mentioning: ["byte 0xC2"], at: 0)  // no-break space
        assertRejected(Array("[1,".utf8) + [0xE3, 0x80, 0x80] + Array("2]".utf8), mentioning: ["byte 0xE3"], at: 3)  // ideographic space
    }

    func testEmptyDocumentIsRejected() {
        assertRejected([], mentioning: ["empty document"])
        assertRejected(" \n\t\r ", mentioning: "empty document")
    }

    func testByteOrderMarkIsRejectedSayingSo() {
        assertRejected([0xEF, 0xBB, 0xBF] + Array(#"{"a":1}"#.utf8), mentioning: ["byte order mark", "BOM"], at: 0)
        assertRejected([0xEF, 0xBB, 0xBF], mentioning: ["byte order mark"], at: 0)
    }

    func testTrailingGarbageAfterTheValueIsRejected() {
        assertRejected(#"{"a":1}x"#, mentioning: "`x`", "after the JSON value", at: 7)
        assertRejected(#"{"a":1}{"b":2}"#, mentioning: "`{`", "after the JSON value", at: 7)
        assertRejected("[1] ]", mentioning: "`]`", "after the JSON value", at: 4)
        assertRejected("1 2", mentioning: "`2`", "after the JSON value", at: 2)
        assertRejected("nullx", mentioning: "`x`", at: 4)
        assertRejected(#""a""b""#, mentioning: "after the JSON value", at: 3)
        assertRejected(#"{"a":1}"# + "\n\0", mentioning: "byte 0x00", "after the JSON value", at: 8)
    }

    func testTruncatedDocumentsSayTheInputEnded() {
        assertRejected(#"{"a":1"#, mentioning: "unexpected end of input", "object", at: 6)
        assertRejected(#"{"a":"#, mentioning: "unexpected end of input", "expected a value", at: 5)
        assertRejected(#"{"a""#, mentioning: "unexpected end of input", "`:`", at: 4)
        assertRejected("{", mentioning: "unexpected end of input", at: 1)
        assertRejected("[1,2", mentioning: "unexpected end of input", "array", at: 4)
        assertRejected("[", mentioning: "unexpected end of input", at: 1)
        assertRejected(#"{"to_number":"+1555"#, mentioning: "unexpected end of input", "string starting at byte 13", at: 19)
        assertRejected("tru", mentioning: "unexpected end of input", "`true`", at: 3)
        assertRejected("-", mentioning: "unexpected end of input", "digit", at: 1)
    }

    // MARK: - Objects and arrays

    func testTrailingCommaInObjectIsRejected() {
        assertRejected(#"{"a":1,}"#, mentioning: "trailing comma in object at byte 7", at: 7)
        assertRejected("{\"a\":1 ,\n }", mentioning: "trailing comma in object", at: 10)
        assertRejected(#"{"to_number":"+15555550100","message":"hi",}"#, mentioning: "trailing comma in object", at: 43)
    }

    func testTrailingCommaInArrayIsRejected() {
        assertRejected("[1,2,]", mentioning: "trailing comma in array at byte 5", at: 5)
        assertRejected(#"{"tags":["a", ]}"#, mentioning: "trailing comma in array", at: 14)
    }

    func testMissingElementsAndMembersAreRejected() {
        assertRejected("[,1]", mentioning: "expected a value", "`,`", at: 1)
        assertRejected("[1,,2]", mentioning: "expected a value", "`,`", at: 3)
        assertRejected("{,}", mentioning: "expected a string key", "`,`", at: 1)
        assertRejected(#"{"a":1,,"b":2}"#, mentioning: "expected a string key", "`,`", at: 7)
        assertRejected(#"{"a":}"#, mentioning: "expected a value", "`}`", at: 5)
        assertRejected(#"{"a" 1}"#, mentioning: "expected `:`", "`1`", at: 5)
        assertRejected(#"{"a":1 "b":2}"#, mentioning: "expected `,` or `}`", "`\"`", at: 7)
        assertRejected("[1 2]", mentioning: "expected `,` or `]`", "`2`", at: 3)
        assertRejected("[1}", mentioning: "expected `,` or `]`", "`}`", at: 2)
        assertRejected(#"{"a":1]"#, mentioning: "expected `,` or `}`", "`]`", at: 6)
    }

    func testObjectKeysMustBeDoubleQuotedStrings() {
        assertRejected("{a:1}", mentioning: "expected a string key", "`a`", at: 1)
        assertRejected("{'a':1}", mentioning: "expected a string key", "`'`", at: 1)
        assertRejected("{1:1}", mentioning: "expected a string key", "`1`", at: 1)
        assertRejected("{null:1}", mentioning: "expected a string key", at: 1)
    }

    func testDuplicateKeyIsRejectedNamingTheKey() {
        let body = #"{"to_number": "+15555550123", "to_number": "+15555550100", "message": "hi"}"#
        assertRejected(body, mentioning: "duplicate key `to_number` at byte 30", at: 30)
        assertRejected(#"{"message":"a","to_number":"+15555550100","message":"b"}"#, mentioning: "duplicate key `message`", at: 42)
        assertRejected(#"{"a":null,"a":null}"#, mentioning: "duplicate key `a`", at: 10)
    }

    func testDuplicateKeyInsideANestedObjectIsRejected() {
        assertRejected(#"{"meta":{"x":1,"x":2}}"#, mentioning: "duplicate key `x`", at: 15)
        assertRejected(#"[{"x":1},{"y":1,"y":1}]"#, mentioning: "duplicate key `y`", at: 16)
    }

    func testKeysAreComparedAfterUnescaping() {
        assertRejected(#"{"a":1,"\u0061":2}"#, mentioning: "duplicate key `a`", at: 7)
        assertRejected(#"{"€":1,"\u20ac":2}"#, mentioning: "duplicate key `€`")
    }

    /// `JSONValue.object` is a `[String: JSONValue]`, and Swift's String equality is canonical
    /// equivalence, so it cannot hold both spellings of "é"; rejecting is the honest answer.
    func testCanonicallyEquivalentKeysCountAsDuplicates() {
        assertRejected(#"{"caf\u00e9":1,"cafe\u0301":2}"#, mentioning: "duplicate key `cafe\u{301}`")
    }

    func testSameKeyInDifferentObjectsAndKeysDifferingInCaseAreAccepted() throws {
        XCTAssertEqual(try parse(#"[{"a":1},{"a":2}]"#), [["a": 1], ["a": 2]])
        XCTAssertEqual(try parse(#"{"a":{"a":1}}"#), ["a": ["a": 1]])
        XCTAssertEqual(try parse(#"{"a":1,"A":2,"a ":3,"":4}"#), ["a": 1, "A": 2, "a ": 3, "": 4])
    }

    func testDuplicateKeyIsQuotedShortAndWithoutControlCharacters() {
        let longKey = String(repeating: "k", count: 5000)
        let reason = assertRejected(#"{"\#(longKey)":1,"\#(longKey)":2}"#, mentioning: "duplicate key `kkkk", "…`", at: 5006)
        XCTAssertLessThan(reason.count, 80, reason)
        let controlReason = assertRejected(#"{"a\u0000\n\u001b[2J":1,"a\u0000\n\u001b[2J":2}"#, mentioning: "duplicate key `a")
        XCTAssertFalse(controlReason.unicodeScalars.contains { $0.value < 0x20 }, controlReason.debugDescription)
    }

    func testNestingUpToTheLimitIsAccepted() throws {
        let depth = JSONValue.maximumNestingDepth
        XCTAssertEqual(depth, 64)
        let arrays = String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
        var expected: JSONValue = []
        for _ in 1..<depth { expected = [expected] }
        XCTAssertEqual(try parse(arrays), expected)
        let objects = String(repeating: #"{"a":"#, count: depth) + "1" + String(repeating: "}", count: depth)
        XCTAssertNoThrow(try parse(objects))
        let mixed = String(repeating: #"[{"a":"#, count: depth / 2) + "null" + String(repeating: "}]", count: depth / 2)
        XCTAssertNoThrow(try parse(mixed))
    }

    func testNestingPastTheLimitIsRejected() {
        let depth = JSONValue.maximumNestingDepth + 1
        assertRejected(
            String(repeating: "[", count: depth) + String(repeating: "]", count: depth),
            mentioning: "nesting deeper than 64 levels", at: 64)
        assertRejected(
            String(repeating: #"{"a":"#, count: depth) + "1" + String(repeating: "}", count: depth),
            mentioning: "nesting deeper than 64 levels", at: 64 * 5)
        // Rejected before the closing brackets are read, so an unterminated one fails the same way.
        assertRejected(String(repeating: "[", count: 100_000), mentioning: "nesting deeper than 64 levels", at: 64)
    }

    // MARK: - Literals

    func testLiteralsAreLowercaseAndExact() {
        for word in ["True", "FALSE", "Null", "nil", "undefined", "none"] {
            assertRejected(word, mentioning: "unknown literal `\(word)`", "true, false and null", at: 0)
        }
        assertRejected("nul", mentioning: "unexpected end of input", "`null`")
        assertRejected("[fals]", mentioning: "unknown literal `fals`", at: 1)
        assertRejected("truetrue", mentioning: "`t`", "after the JSON value", at: 4)
    }

    func testLongUnknownWordIsCutShort() {
        let reason = assertRejected(String(repeating: "x", count: 3000), mentioning: "unknown literal `xxxx", "…`", at: 0)
        XCTAssertLessThan(reason.count, 90, reason)
    }

    // MARK: - Numbers

    func testNumbersInTheGrammarParse() throws {
        let cases: [(String, Double)] = [
            ("0", 0), ("1", 1), ("-1", -1), ("10", 10), ("3600", 3600), ("1.5", 1.5), ("0.5", 0.5),
            ("-0.5", -0.5), ("1e3", 1000), ("1E3", 1000), ("1e+3", 1000), ("1e-3", 0.001), ("1E-3", 0.001),
            ("0e0", 0), ("0.0", 0), ("2.5E-1", 0.25), ("10.010", 10.01), ("0.1", 0.1),
            ("123456789012345", 123_456_789_012_345), ("-123456789012345", -123_456_789_012_345),
            ("15555550123", 15_555_550_123), ("1e0", 1), ("1e00001", 10),
        ]
        for (text, expected) in cases {
            XCTAssertEqual(try number(text), expected, text)
        }
    }

    func testLongIntegersRoundToTheNearestDouble() throws {
        XCTAssertEqual(try number("9007199254740993"), 9_007_199_254_740_992)  // 2^53 + 1
        XCTAssertEqual(try number("1234567890123456"), 1_234_567_890_123_456)
        XCTAssertEqual(try number("12345678901234567890"), 12_345_678_901_234_567_168)
        XCTAssertEqual(try number("-9223372036854775809"), -9_223_372_036_854_775_808)
        XCTAssertEqual(try number("1" + String(repeating: "0", count: 300)), 1e300)
    }

    func testNegativeZeroKeepsItsSign() throws {
        for text in ["-0", "-0.0", "-0e5", "-0E-5"] {
            let value = try number(text)
            XCTAssertEqual(value, 0, text)
            XCTAssertEqual(value.sign, .minus, text)
        }
        XCTAssertEqual(try number("0").sign, .plus)
    }

    func testBigAndTinyExponentsWithinRangeParse() throws {
        XCTAssertEqual(try number("1e308"), 1e308)
        XCTAssertEqual(try number("1.7976931348623157e308"), .greatestFiniteMagnitude)
        XCTAssertEqual(try number("-1.7976931348623157E+308"), -.greatestFiniteMagnitude)
        XCTAssertEqual(try number("2.2250738585072014e-308"), .leastNormalMagnitude)
        XCTAssertEqual(try number("5e-324"), .leastNonzeroMagnitude)
        XCTAssertEqual(try number("0.000001e-300"), 1e-306)
        // Below the smallest subnormal a number rounds to zero, as RFC 8259 allows: it has a value.
        XCTAssertEqual(try number("1e-400"), 0)
        XCTAssertEqual(try number("-1e-400").sign, .minus)
        XCTAssertEqual(try number("0e999999"), 0)
    }

    func testNumbersThatOverflowToInfinityAreRejected() {
        for text in ["1e400", "-1e400", "1e309", "1.8e308", "1E+99999999999999999999"] {
            assertRejected(text, mentioning: "number out of range", at: 0)
        }
        assertRejected("1" + String(repeating: "0", count: 400), mentioning: "number out of range", at: 0)
        assertRejected(#"{"validity_period":1e400}"#, mentioning: "number out of range", at: 19)
    }

    func testNumbersOutsideTheGrammarAreRejectedSayingWhy() {
        assertRejected("01", mentioning: "leading zero", at: 0)
        assertRejected("00", mentioning: "leading zero", at: 0)
        assertRejected("-01", mentioning: "leading zero", at: 0)
        assertRejected("[007]", mentioning: "leading zero", at: 1)
        assertRejected("+1", mentioning: "`+`", at: 0)
        assertRejected(".5", mentioning: "`.`", at: 0)
        assertRejected("-.5", mentioning: "digit after `-`", "`.`", at: 1)
        assertRejected("1.", mentioning: "digit after the decimal point")
        assertRejected("[1.]", mentioning: "digit after the decimal point", "`]`", at: 3)
        assertRejected("1.e3", mentioning: "digit after the decimal point", "`e`", at: 2)
        assertRejected("1e", mentioning: "digit in the exponent")
        assertRejected("1e+", mentioning: "digit in the exponent")
        assertRejected("[1e-]", mentioning: "digit in the exponent", "`]`", at: 4)
        assertRejected("1e1.5", mentioning: "`.`", "after the JSON value", at: 3)
        assertRejected("--1", mentioning: "digit after `-`", "`-`", at: 1)
        assertRejected("- 1", mentioning: "digit after `-`", at: 1)
        assertRejected("0x10", mentioning: "`x`", at: 1)
        assertRejected("1_000", mentioning: "`_`", at: 1)
        assertRejected("1,5", mentioning: "`,`", at: 1)
    }

    func testNaNAndInfinityAreRejected() {
        assertRejected("NaN", mentioning: "unknown literal `NaN`", at: 0)
        assertRejected("Infinity", mentioning: "unknown literal `Infinity`", at: 0)
        assertRejected("-Infinity", mentioning: "Infinity is not a JSON number", at: 0)
        assertRejected(#"{"validity_period":NaN}"#, mentioning: "`NaN`", at: 19)
        assertRejected("-NaN", mentioning: "digit after `-`", "`N`", at: 1)
    }

    func testFullwidthDigitsAreNotNumbers() {
        assertRejected(Array("１".utf8), mentioning: ["byte 0xEF"], at: 0)
    }

    // MARK: - Strings

    func testRawUTF8EmojiAndAccentsArePreserved() throws {
        XCTAssertEqual(try parse(#"{"message":"Grüße 👋🏽 from Zürich 🇨🇭 👨‍👩‍👧"}"#), ["message": "Grüße 👋🏽 from Zürich 🇨🇭 👨‍👩‍👧"])
    }

    func testSurrogatePairEscapesCombineIntoOneScalar() throws {
        let value = try string(Array(#""\ud83d\ude00 \uD83D\uDC4B\uD83C\uDFFD""#.utf8))
        XCTAssertEqual(value, "😀 👋🏽")
        XCTAssertEqual(value.unicodeScalars.map(\.value), [0x1F600, 0x20, 0x1F44B, 0x1F3FD])
        XCTAssertEqual(try string(Array(#""\ud800\udc00""#.utf8)).unicodeScalars.map(\.value), [0x10000])
        XCTAssertEqual(try string(Array(#""\udbff\udfff""#.utf8)).unicodeScalars.map(\.value), [0x10FFFF])
    }

    func testEscapedAndRawEmojiGiveTheSameString() throws {
        XCTAssertEqual(try parse(#"{"message":"Hi \ud83d\udc4b"}"#), try parse(#"{"message":"Hi 👋"}"#))
    }

    func testGSM7ExtensionCharactersRawAndEscaped() throws {
        // The GSM 03.38 extension table: each costs two septets in an SMS.
        let extensionCharacters = "^{}\\[~]|€"
        XCTAssertEqual(try string(Array(#""^{}\\[~]|€""#.utf8)), extensionCharacters)
        XCTAssertEqual(try string(Array(#""\u005e\u007b\u007d\u005c\u005b\u007e\u005d\u007c\u20ac""#.utf8)), extensionCharacters)
        XCTAssertEqual(try string(Array(#""\u20AC5 \u00a3 \u00E9""#.utf8)), "€5 £ é")
    }

    func testEscapedNULIsKeptAsACharacter() throws {
        // Well-formed JSON; the message rules, not the parser, decide that a NUL cannot be sent.
        let value = try string(Array(#""a\u0000b""#.utf8))
        XCTAssertEqual(value.unicodeScalars.map(\.value), [0x61, 0x00, 0x62])
    }

    func testEverySimpleEscapeIsDecoded() throws {
        XCTAssertEqual(try string(Array(#""\" \\ \/ \b \f \n \r \t""#.utf8)), "\" \\ / \u{8} \u{C} \n \r \t")
        XCTAssertEqual(try string(Array(#""\n""#.utf8)), "\n")
        XCTAssertEqual(try string(Array(#""\\\\""#.utf8)), "\\\\")
    }

    func testTextAroundEscapesIsKept() throws {
        XCTAssertEqual(try string(Array(#""Grüße 👋\nZürich\t€ end""#.utf8)), "Grüße 👋\nZürich\t€ end")
        XCTAssertEqual(try string(Array(#""\u00e9x""#.utf8)), "éx")
        XCTAssertEqual(try string(Array(#""x\u00e9""#.utf8)), "xé")
        XCTAssertEqual(try parse(#"{"k\u0065y":"v\u0061lue","plain":"text"}"#), ["key": "value", "plain": "text"])
        XCTAssertEqual(try string(Array(#""""#.utf8)), "")
    }

    func testDeleteIsAllowedRawButControlCharactersAreNot() throws {
        XCTAssertEqual(try string(quoted([0x61, 0x7F])), "a\u{7F}")
        for byte in UInt8(0x00)..<0x20 {
            let hex = String(byte, radix: 16, uppercase: true)
            let name = hex.count == 1 ? "0x0" + hex : "0x" + hex
            assertRejected(quoted([0x61, byte, 0x62]), mentioning: ["unescaped control character \(name)", "in string"], at: 2)
        }
    }

    func testInvalidEscapesAreRejected() {
        assertRejected(#""\x41""#, mentioning: "invalid escape `\\x`", at: 1)
        assertRejected(#""\a""#, mentioning: "invalid escape `\\a`", at: 1)
        assertRejected(#""\'""#, mentioning: "invalid escape `\\'`", at: 1)
        assertRejected(#""\U0041""#, mentioning: "invalid escape `\\U`", at: 1)
        assertRejected(#""\ ""#, mentioning: "invalid escape", "byte 0x20", at: 1)
        assertRejected(#""ab\u12""#, mentioning: "invalid `\\u` escape", "4 hex digits", "`\"`", at: 3)
        assertRejected(#""\u12G4""#, mentioning: "invalid `\\u` escape", "`G`", at: 1)
        assertRejected(#""\u-123""#, mentioning: "invalid `\\u` escape", at: 1)
        assertRejected(#""\u12"#, mentioning: "unexpected end of input", "`\\u` escape")
        assertRejected(#""\"#, mentioning: "unexpected end of input", "escape")
    }

    func testLoneAndMisorderedSurrogateEscapesAreRejected() {
        assertRejected(#""\ud83d""#, mentioning: "lone high surrogate `\\uD83D`", at: 1)
        assertRejected(#""x\ud83dx""#, mentioning: "lone high surrogate", at: 2)
        assertRejected(#""\ud83d\n""#, mentioning: "lone high surrogate", at: 1)
        assertRejected(#""\ud83d\u0041""#, mentioning: "high surrogate `\\uD83D` followed by `\\u0041`", at: 1)
        assertRejected(#""\ud83d\ud83d""#, mentioning: "followed by `\\uD83D`", at: 1)
        assertRejected(#""\ude00""#, mentioning: "lone low surrogate `\\uDE00`", at: 1)
        assertRejected(#""\ude00\ud83d""#, mentioning: "lone low surrogate", at: 1)
        assertRejected(#""\udfff""#, mentioning: "lone low surrogate", at: 1)
        assertRejected(#""\ud83d\ude0""#, mentioning: "invalid `\\u` escape", at: 7)
    }

    func testUnterminatedStringIsRejected() {
        assertRejected(#""abc"#, mentioning: "unexpected end of input", "string starting at byte 0", at: 4)
        assertRejected(#"{"message":"hi \"quoted\"}"#, mentioning: "unexpected end of input", "string starting at byte 11")
    }

    // MARK: - UTF-8

    func testValidUTF8AtTheEdgesOfEachLengthIsAccepted() throws {
        let edges: [([UInt8], UInt32)] = [
            ([0x7F], 0x7F), ([0xC2, 0x80], 0x80), ([0xDF, 0xBF], 0x7FF), ([0xE0, 0xA0, 0x80], 0x800),
            ([0xED, 0x9F, 0xBF], 0xD7FF), ([0xEE, 0x80, 0x80], 0xE000), ([0xEF, 0xBF, 0xBF], 0xFFFF),
            ([0xF0, 0x90, 0x80, 0x80], 0x10000), ([0xF4, 0x8F, 0xBF, 0xBF], 0x10FFFF),
        ]
        for (bytes, scalar) in edges {
            XCTAssertEqual(try string(quoted(bytes)).unicodeScalars.map(\.value), [scalar], "\(bytes)")
        }
    }

    func testOverlongEncodingsAreRejected() {
        for bytes: [UInt8] in [
            [0xC0, 0x80], [0xC1, 0xBF], [0xE0, 0x80, 0x80], [0xE0, 0x9F, 0xBF],
            [0xF0, 0x80, 0x80, 0x80], [0xF0, 0x8F, 0xBF, 0xBF],
        ] {
            assertRejected(quoted(bytes), mentioning: ["invalid UTF-8", "overlong"], at: 1)
        }
    }

    func testSurrogatesEncodedInUTF8AreRejected() {
        // CESU-8 style: U+D83D U+DE00 written as two three-byte sequences.
        assertRejected(quoted([0xED, 0xA0, 0xBD, 0xED, 0xB8, 0x80]), mentioning: ["invalid UTF-8", "surrogate"], at: 1)
        assertRejected(quoted([0xED, 0xBF, 0xBF]), mentioning: ["invalid UTF-8", "surrogate"], at: 1)
    }

    func testTruncatedSequencesAreRejected() {
        assertRejected(quoted([0xC3]), mentioning: ["invalid UTF-8", "truncated"], at: 1)
        assertRejected(quoted([0xE2, 0x82]), mentioning: ["invalid UTF-8", "truncated"], at: 1)
        assertRejected(quoted([0xF0, 0x9F, 0x98]), mentioning: ["invalid UTF-8", "truncated"], at: 1)
        assertRejected(quoted([0xC3, 0x28]), mentioning: ["invalid UTF-8", "truncated"], at: 1)
        assertRejected(quoted([0x61, 0xF0, 0x9F, 0x98, 0x61]), mentioning: ["invalid UTF-8", "truncated"], at: 2)
        assertRejected([0x22, 0xF0, 0x9F], mentioning: ["invalid UTF-8", "truncated"], at: 1)
        // After an escape the slow path checks the same way.
        assertRejected(Array(#""\n"#.utf8) + [0xE2, 0x82, 0x22], mentioning: ["invalid UTF-8", "truncated"], at: 3)
    }

    func testBytesThatNeverAppearInUTF8AreRejected() {
        for byte: UInt8 in [0xF5, 0xF8, 0xFE, 0xFF] {
            assertRejected(quoted([byte, 0x80, 0x80, 0x80]), mentioning: ["invalid UTF-8", "never appears"], at: 1)
        }
        assertRejected(quoted([0xF4, 0x90, 0x80, 0x80]), mentioning: ["invalid UTF-8", "above U+10FFFF"], at: 1)
        assertRejected(quoted([0x80]), mentioning: ["invalid UTF-8", "continuation byte 0x80"], at: 1)
        assertRejected(quoted([0x61, 0xBF]), mentioning: ["invalid UTF-8", "continuation"], at: 2)
    }

    func testNonASCIIBytesOutsideStringsAreRejected() {
        assertRejected([0xFF], mentioning: ["byte 0xFF"], at: 0)
        assertRejected(Array("[1,".utf8) + [0xC3, 0xA9] + Array("]".utf8), mentioning: ["expected a value", "byte 0xC3"], at: 3)
    }

    // MARK: - Errors

    func testReasonsQuoteLittleOfALargeBody() {
        let filler = String(repeating: "a", count: 10_000)
        let cases: [[UInt8]] = [
            Array(#"{"message":"\#(filler)"#.utf8),
            Array(#"{"message":"\#(filler)\q"}"#.utf8),
            Array(#"{"message":"\#(filler)"}"#.utf8) + [0xFF],
            Array(#"{"\#(filler)":1,}"#.utf8),
            Array(#"{"message":\#(filler)}"#.utf8),
            Array("[\(String(repeating: "1", count: 10_000))e999]".utf8),
        ]
        for bytes in cases {
            let reason = assertRejected(bytes, mentioning: [])
            XCTAssertLessThan(reason.count, 100, reason)
            XCTAssertFalse(reason.contains("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"), reason)
        }
    }

    // MARK: - Round trip

    func testSerializedValuesParseBackToTheSameValue() throws {
        let values: [JSONValue] = [
            nil, true, false, 0, -1, 3600, .number(1.5), .number(-0.25), .number(0.1), .number(1e-7), .number(1e20),
            .number(123_456_789.123), .number(.greatestFiniteMagnitude), .number(.leastNonzeroMagnitude),
            .number(-.leastNormalMagnitude), .number(9_007_199_254_740_992),
            "", "plain", "Grüße 👋🏽 from Zürich", "^{}\\[~]|€", "emoji 😀🇨🇭👨‍👩‍👧",
            .string(String(decoding: (0..<0x20).map { UInt8($0) } + [0x22, 0x5C, 0x2F, 0x7F], as: UTF8.self)),
            .string("a\u{0}b"), .string("\u{10FFFF}\u{FFFF}\u{E000}\u{D7FF}"),
            [], [:], [[], [:], [[]]],
            ["to_number": "+15555550123", "message": "Your code is 482913.", "validity_period": 600, "send_at": nil],
            ["nested": ["list": [1, "two", nil, false, ["deep": [true]]]], "": "empty key", "é": "accented key"],
        ]
        for value in values {
            let text = String(decoding: value.serialized(), as: UTF8.self)
            XCTAssertEqual(try JSONValue.parse(value.serialized()), value, text)
        }
    }

    func testNestingAtTheLimitRoundTrips() throws {
        var value: JSONValue = ["leaf": 1]
        for index in 1..<JSONValue.maximumNestingDepth { value = index.isMultiple(of: 2) ? ["k": value] : [value] }
        XCTAssertEqual(try JSONValue.parse(value.serialized()), value)
    }
}
