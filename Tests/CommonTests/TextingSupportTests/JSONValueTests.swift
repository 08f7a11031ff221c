import TextingSupport
import XCTest

final class JSONValueTests: XCTestCase {
    private func parse(_ text: String) throws -> JSONValue {
        try JSONValue.parse(Array(text.utf8))
    }

    private func serializedText(_ value: JSONValue) -> String {
        String(decoding: value.serialized(), as: UTF8.self)
    }

    private func assertRejected(_ bytes: [UInt8], _ label: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try JSONValue.parse(bytes), label, file: file, line: line) { error in
            XCTAssertTrue(error is JSONParseError, "\(label): threw \(type(of: error))", file: file, line: line)
            if let parseError = error as? JSONParseError {
                XCTAssertFalse(parseError.reason.isEmpty, "\(label): reason should say what was wrong", file: file, line: line)
            }
        }
    }

    // MARK: - Parsing

    func testObjectWithNestedArrayAndNullParsesToMembers() throws {
        let value = try parse(#"{"to_number":"+15555550100","tags":[1,"two",null,false],"meta":{"a":{}}}"#)
        XCTAssertEqual(
            value,
            .object([
                "to_number": .string("+15555550100"),
                "tags": .array([.number(1), .string("two"), .null, .bool(false)]),
                "meta": .object(["a": .object([:])]),
            ]))
        XCTAssertEqual(value["to_number"], .string("+15555550100"))
        XCTAssertNil(value["missing"])
    }

    func testSubscriptOnNonObjectIsNil() throws {
        XCTAssertNil(try parse(#"["to_number"]"#)["to_number"])
        XCTAssertNil(JSONValue.string("x")["x"])
    }

    func testWhitespaceAroundTokensIsIgnored() throws {
        XCTAssertEqual(try parse(" \n\t{ \"a\" : [ 1 , 2 ] }\r\n "), ["a": [1, 2]])
    }

    func testEmptyContainersParse() throws {
        XCTAssertEqual(try parse("{}"), .object([:]))
        XCTAssertEqual(try parse("[]"), .array([]))
    }

    func testStandardStringEscapesAreDecoded() throws {
        let value = try parse(#"["quote \" backslash \\ slash \/ nl \n tab \t cr \r bs \b ff \f"]"#)
        XCTAssertEqual(value, .array([.string("quote \" backslash \\ slash / nl \n tab \t cr \r bs \u{8} ff \u{C}")]))
    }

    func testUnicodeEscapeForLatinLetterIsDecoded() throws {
        XCTAssertEqual(try parse(#""caf\u00e9""#), .string("café"))
        XCTAssertEqual(try parse(#""caf\u00E9""#), .string("café"))
    }

    func testSurrogatePairEscapeDecodesToOneEmoji() throws {
        let value = try parse(#""\ud83d\ude00""#)
        XCTAssertEqual(value, .string("😀"))
        if case .string(let text) = value {
            XCTAssertEqual(text.unicodeScalars.count, 1)
            XCTAssertEqual(text.unicodeScalars.first?.value, 0x1F600)
        }
    }

    func testRawUTF8EmojiAndAccentsArePreserved() throws {
        XCTAssertEqual(try parse("{\"message\":\"Grüße 👋🏽 from Zürich\"}"), ["message": "Grüße 👋🏽 from Zürich"])
    }

    func testNumbersParseAsDoubles() throws {
        XCTAssertEqual(try parse("0"), .number(0))
        XCTAssertEqual(try parse("-17"), .number(-17))
        XCTAssertEqual(try parse("3600"), .number(3600))
        XCTAssertEqual(try parse("1.5"), .number(1.5))
        XCTAssertEqual(try parse("-0.25"), .number(-0.25))
        XCTAssertEqual(try parse("1e3"), .number(1000))
        XCTAssertEqual(try parse("2.5E-1"), .number(0.25))
    }

    func testTrueIsBoolAndOneIsNumber() throws {
        XCTAssertEqual(try parse("true"), .bool(true))
        XCTAssertEqual(try parse("false"), .bool(false))
        XCTAssertEqual(try parse("1"), .number(1))
        XCTAssertEqual(try parse("0"), .number(0))
        XCTAssertEqual(try parse("[true,1,false,0]"), .array([.bool(true), .number(1), .bool(false), .number(0)]))
    }

    func testNullParsesAsNullNotMissing() throws {
        let value = try parse(#"{"send_at":null}"#)
        XCTAssertEqual(value["send_at"], .null)
        XCTAssertEqual(try parse("null"), .null)
    }

    func testTypeNamesMatchJSONTerminology() throws {
        XCTAssertEqual(try parse("null").typeName, "null")
        XCTAssertEqual(try parse("true").typeName, "boolean")
        XCTAssertEqual(try parse("1").typeName, "number")
        XCTAssertEqual(try parse("\"x\"").typeName, "string")
        XCTAssertEqual(try parse("[]").typeName, "array")
        XCTAssertEqual(try parse("{}").typeName, "object")
    }

    // MARK: - Malformed input

    func testEmptyBodyIsRejected() {
        assertRejected([], "empty body")
        assertRejected(Array("   ".utf8), "whitespace only")
    }

    func testTruncatedDocumentsAreRejected() {
        assertRejected(Array(#"{"to_number":"+1555"#.utf8), "unterminated string")
        assertRejected(Array(#"{"a":1"#.utf8), "missing closing brace")
        assertRejected(Array("[1,2".utf8), "missing closing bracket")
        assertRejected(Array(#"{"a":"#.utf8), "missing value")
        assertRejected(Array("tru".utf8), "truncated literal")
    }

    func testTrailingGarbageIsRejected() {
        assertRejected(Array(#"{"a":1}x"#.utf8), "letter after object")
        assertRejected(Array(#"{"a":1}{"b":2}"#.utf8), "two documents")
        assertRejected(Array("[1] ]".utf8), "extra bracket")
    }

    func testInvalidUTF8BytesAreRejected() {
        assertRejected([0xFF], "lone 0xff")
        assertRejected([0x22, 0xC3, 0x28, 0x22], "invalid continuation inside string")
    }

    func testSyntaxErrorsAreRejected() {
        assertRejected(Array(#"{'a':1}"#.utf8), "single quotes")
        assertRejected(Array("[1,,2]".utf8), "empty array element")
        assertRejected(Array("{a:1}".utf8), "unquoted key")
        assertRejected(Array(#""\x41""#.utf8), "invalid escape")
        assertRejected(Array("// comment\n{}".utf8), "comment")
    }

    func testNumbersOutsideJSONGrammarAreRejected() {
        for text in ["01", "+1", ".5", "NaN", "Infinity", "0x10"] {
            assertRejected(Array(text.utf8), text)
        }
    }

    func testRawControlCharacterInsideStringIsRejected() {
        assertRejected(Array("\"line\nbreak\"".utf8), "raw newline")
        assertRejected(Array("\"tab\there\"".utf8), "raw tab")
    }

    func testLoneSurrogateEscapeIsRejected() {
        assertRejected(Array(#""\ud83d""#.utf8), "lone high surrogate")
        assertRejected(Array(#""\ude00x""#.utf8), "lone low surrogate")
    }

    // MARK: - Serialization

    func testObjectKeysAreSortedSoEqualValuesGiveEqualBytes() {
        let value: JSONValue = ["zeta": 1, "alpha": 2, "Mid": 3, "beta": ["y": true, "x": false]]
        XCTAssertEqual(serializedText(value), #"{"Mid":3,"alpha":2,"beta":{"x":false,"y":true},"zeta":1}"#)
    }

    func testIntegersAreWrittenWithoutFraction() {
        XCTAssertEqual(serializedText(.number(3600)), "3600")
        XCTAssertEqual(serializedText(.number(0)), "0")
        XCTAssertEqual(serializedText(.number(-42)), "-42")
        XCTAssertEqual(serializedText(.number(422)), "422")
    }

    func testFractionsKeepTheirDigits() throws {
        let text = serializedText(.number(1.5))
        XCTAssertEqual(text, "1.5")
        XCTAssertEqual(try parse(serializedText(.number(0.1))), .number(0.1))
    }

    func testNonFiniteNumbersBecomeNull() {
        XCTAssertEqual(serializedText(.number(.infinity)), "null")
        XCTAssertEqual(serializedText(.number(.nan)), "null")
    }

    func testQuoteAndBackslashAreEscaped() {
        XCTAssertEqual(serializedText(.string(#"say "hi" \ bye"#)), #""say \"hi\" \\ bye""#)
    }

    func testControlCharactersAreEscaped() {
        XCTAssertEqual(serializedText(.string("a\nb")), #""a\nb""#)
        XCTAssertEqual(serializedText(.string("a\rb\tc")), #""a\rb\tc""#)
        XCTAssertEqual(serializedText(.string("\u{1}")), #""\u0001""#)
        XCTAssertEqual(serializedText(.string("\u{1F}")), #""\u001f""#)
        XCTAssertEqual(serializedText(.string("\u{7F}")), #""\u007f""#)
        // No raw byte below 0x20 may appear in the output.
        let bytes = JSONValue.string("\u{0}\u{1}\u{8}\u{C}\n\r\t\u{1F}").serialized()
        XCTAssertFalse(bytes.contains { $0 < 0x20 })
    }

    func testEscapesAtEitherEndAndBetweenRunsOfPlainText() {
        XCTAssertEqual(serializedText(.string("\"")), #""\"""#)
        XCTAssertEqual(serializedText(.string("\nstart")), #""\nstart""#)
        XCTAssertEqual(serializedText(.string("end\\")), #""end\\""#)
        XCTAssertEqual(serializedText(.string("é\"x\u{1}\u{1}😀\t")), #""é\"x\u0001\u0001😀\t""#)
        XCTAssertEqual(serializedText(.string("")), #""""#)
        // A key is a string like any other.
        XCTAssertEqual(serializedText(["a\"b": "c\nd"]), #"{"a\"b":"c\nd"}"#)
    }

    func testKeysSortByTheirScalarsBeyondASCII() {
        let value: JSONValue = ["é": 1, "z": 2, "😀": 3, "Z": 4]
        XCTAssertEqual(serializedText(value), #"{"Z":4,"z":2,"é":1,"😀":3}"#)
    }

    func testNonASCIIIsWrittenAsUTF8() {
        XCTAssertEqual(JSONValue.string("é😀").serialized(), [0x22] + Array("é😀".utf8) + [0x22])
    }

    func testLiteralsSerialize() {
        XCTAssertEqual(serializedText([nil, true, false, "s", 2]), #"[null,true,false,"s",2]"#)
        XCTAssertEqual(serializedText(JSONValue(nil as String?)), "null")
        XCTAssertEqual(serializedText(JSONValue(nil as Int?)), "null")
        XCTAssertEqual(serializedText(JSONValue(7 as Int?)), "7")
    }

    func testSerializedValueParsesBackToTheSameValue() throws {
        let value: JSONValue = [
            "message": .string("Line 1\nLine \"2\" \\ tab\t ctrl\u{1} del\u{7F} é 😀"),
            "count": 3,
            "ratio": .number(0.75),
            "negative": .number(-1e-7),
            "big": .number(1e20),
            "flags": [true, false, nil],
            "nested": ["empty": .object([:]), "list": .array([])],
        ]
        let reparsed = try JSONValue.parse(value.serialized())
        XCTAssertEqual(reparsed, value)
        XCTAssertEqual(reparsed.serialized(), value.serialized())
    }

    func testParsedDocumentRoundTripsToCanonicalBytes() throws {
        let original = #"{ "b" : [1, 2.5, "x\u0041"], "a" : {"d": null, "c": true} }"#
        let value = try parse(original)
        XCTAssertEqual(serializedText(value), #"{"a":{"c":true,"d":null},"b":[1,2.5,"xA"]}"#)
    }
}

final class JSONValueDepthTests: XCTestCase {
    /// A 16 KiB body can nest 8000 levels deep; parsing it must fail cleanly, not overflow the stack.
    func testDeeplyNestedInputIsRejectedWithoutCrashing() {
        let depth = 8000
        let text = String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
        XCTAssertThrowsError(try JSONValue.parse(Array(text.utf8)))
        let objects = String(repeating: "{\"a\":", count: 3000) + "1" + String(repeating: "}", count: 3000)
        XCTAssertThrowsError(try JSONValue.parse(Array(objects.utf8)))
    }
}
