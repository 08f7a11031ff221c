import TextingDomain
import TextingSupport
import XCTest

final class ProviderAnswerTests: XCTestCase {
    private func answer(_ status: Int, _ body: String = "", retryAfter: String? = nil) -> ProviderAnswer {
        ProviderAnswer(status: status, retryAfter: retryAfter, body: Array(body.utf8))
    }

    private func assertTemporary(
        _ answer: ProviderAnswer, retryAfter expected: Int? = nil,
        file: StaticString = #filePath, line: UInt = #line
    ) {
        guard case .temporary(let reason, let retryAfter) = answer else {
            return XCTFail("expected temporary, got \(answer)", file: file, line: line)
        }
        XCTAssertFalse(reason.isEmpty, file: file, line: line)
        XCTAssertEqual(retryAfter, expected, file: file, line: line)
    }

    private func assertPermanent(_ answer: ProviderAnswer, file: StaticString = #filePath, line: UInt = #line) {
        guard case .permanent(let reason, _) = answer else {
            return XCTFail("expected permanent, got \(answer)", file: file, line: line)
        }
        XCTAssertFalse(reason.isEmpty, file: file, line: line)
    }

    func testOKWithMessageIDIsAccepted() {
        XCTAssertEqual(answer(200, #"{"message_id":"abc"}"#), .accepted(providerMessageID: "abc"))
    }

    func testOtherSuccessStatusWithMessageIDIsAccepted() {
        XCTAssertEqual(answer(202, #"{"status":"queued","message_id":"p1-6f1c"}"#), .accepted(providerMessageID: "p1-6f1c"))
    }

    func testOKWithAByteOrderMarkBeforeTheJSONIsAccepted() {
        XCTAssertEqual(answer(200, "\u{FEFF}{\"message_id\":\"bom-1\"}"), .accepted(providerMessageID: "bom-1"))
    }

    func testOKWithoutMessageIDIsTemporary() {
        assertTemporary(answer(200, #"{"status":"ok"}"#))
    }

    func testOKWithNonJSONBodyIsTemporary() {
        assertTemporary(answer(200, "OK"))
        assertTemporary(answer(200, ""))
        assertTemporary(answer(200, "<html>Gateway</html>"))
    }

    func testOKWithEmptyOrNonStringMessageIDIsTemporary() {
        assertTemporary(answer(200, #"{"message_id":""}"#))
        assertTemporary(answer(200, #"{"message_id":12345}"#))
        assertTemporary(answer(200, #"{"message_id":null}"#))
        assertTemporary(answer(200, #"[{"message_id":"abc"}]"#))
    }

    func testOKWithAnUnusableMessageIDIsAcceptedWithoutTheID() {
        // The provider gave an id, so it took the message: sending it again would be a
        // duplicate SMS. The id itself cannot be stored or matched, so it is not kept.
        let longest = String(repeating: "x", count: 200)
        XCTAssertEqual(answer(200, #"{"message_id":"\#(longest)"}"#), .accepted(providerMessageID: longest))
        for id in [
            String(repeating: "x", count: 201), String(repeating: "y", count: 10_000), #"abc\u0000def"#, #"line\r\nbreak"#,
            #"tab\there"#, #"\u0000"#, #"del\u007f"#, #"c1\u0085"#, #"sep\u2028"#,
        ] {
            XCTAssertEqual(answer(200, #"{"message_id":"\#(id)"}"#), .accepted(providerMessageID: nil), id)
        }
    }

    func testOKWhoseBodyIsNotUTF8IsTemporaryAndQuotedSafely() {
        let body: [UInt8] = Array(#"{"message_id":"ab"#.utf8) + [0xFF, 0xFE, 0x00, 0x0A] + Array(#"cd"}"#.utf8)
        guard case .temporary(let reason, _) = ProviderAnswer(status: 200, retryAfter: nil, body: body) else { return XCTFail() }
        XCTAssertTrue(reason.contains(#"ab\xff\xfe\x00\x0acd"#), reason)
    }

    func testReasonEscapesControlCharactersSoNoLogLineCanBeForged() {
        guard case .permanent(let reason, _) = answer(400, "bad\r\nwarning: forged line\u{0}") else { return XCTFail() }
        XCTAssertFalse(reason.contains("\n") || reason.contains("\r") || reason.contains("\u{0}"), reason)
        XCTAssertTrue(reason.contains(#"bad\u{d}\u{a}warning: forged line\u{0}"#), reason)
    }

    func testReasonExcerptOfAHugeBodyIsBoundedInBytes() {
        // One grapheme of 100,000 combining marks: bounded by bytes, not by Characters.
        let body = "e" + String(repeating: "\u{301}", count: 100_000)
        guard case .permanent(let reason, _) = answer(400, body) else { return XCTFail() }
        XCTAssertLessThan(reason.utf8.count, 400)
        guard case .temporary(let big, _) = ProviderAnswer(status: 503, retryAfter: nil, body: Array(repeating: 0x41, count: 100 * 1024 * 1024)) else {
            return XCTFail()
        }
        XCTAssertLessThan(big.utf8.count, 400)
    }

    func testUnusualStatusesAreTemporary() {
        for status in [0, 100, 199, 304, 600, 999, -1] {
            assertTemporary(answer(status, #"{"message_id":"abc"}"#))
        }
    }

    func testOKWithHTMLOrNoBodyIsTemporary() {
        assertTemporary(answer(204))
        assertTemporary(answer(200, "<!DOCTYPE html><html><body>Welcome to nginx!</body></html>"))
    }

    func testTemporaryReasonQuotesTheBody() {
        guard case .temporary(let reason, _) = answer(200, "provider is confused") else { return XCTFail() }
        XCTAssertTrue(reason.contains("provider is confused"), reason)
    }

    func testServerErrorsAreTemporary() {
        for status in [500, 502, 503, 504] {
            assertTemporary(answer(status, "upstream down"))
        }
    }

    func testRateLimitWithRetryAfterIsTemporaryWithMilliseconds() {
        assertTemporary(answer(429, "", retryAfter: "7"), retryAfter: 7000)
    }

    func testRetryAfterWithSurroundingWhitespaceIsRead() {
        assertTemporary(answer(429, "", retryAfter: " 7 "), retryAfter: 7000)
    }

    func testRateLimitWithoutRetryAfterIsTemporaryWithoutDelay() {
        assertTemporary(answer(429, "slow down"), retryAfter: nil)
    }

    func testRetryAfterAsHTTPDateIsIgnored() {
        assertTemporary(answer(429, "", retryAfter: "Wed, 21 Oct 2026 07:28:00 GMT"), retryAfter: nil)
    }

    func testHugeRetryAfterIsCappedAtAnHour() {
        assertTemporary(answer(429, "", retryAfter: "86400"), retryAfter: 3_600_000)
    }

    func testRejectionsByClientErrorStatusArePermanent() {
        for status in [400, 401, 403, 404, 422] {
            assertPermanent(answer(status, #"{"error":"invalid number"}"#))
        }
    }

    func testPermanentReasonNamesStatusAndBody() {
        guard case .permanent(let reason, _) = answer(422, "invalid destination") else { return XCTFail() }
        XCTAssertTrue(reason.contains("422"), reason)
        XCTAssertTrue(reason.contains("invalid destination"), reason)
    }

    func testReasonExcerptIsBounded() {
        guard case .permanent(let reason, _) = answer(400, String(repeating: "e", count: 10_000)) else { return XCTFail() }
        XCTAssertLessThan(reason.count, 400)
    }

    func testRedirectIsNotTreatedAsAccepted() {
        assertTemporary(answer(302, #"{"message_id":"abc"}"#))
    }
}

final class ProviderErrorCodeTests: XCTestCase {
    private func answer(_ status: Int, _ body: String) -> ProviderAnswer {
        ProviderAnswer(status: status, retryAfter: nil, body: Array(body.utf8))
    }

    func testARejectionKeepsTheProvidersOwnCode() {
        guard case .permanent(_, let code) = answer(400, #"{"error_code": "30003", "error_message": "Unreachable"}"#) else { return XCTFail() }
        XCTAssertEqual(code, "30003")
        guard case .permanent(_, let number) = answer(422, #"{"error_code": 21610}"#) else { return XCTFail() }
        XCTAssertEqual(number, "21610")
    }

    func testAnUnusableCodeIsDroppedAndTheRejectionStands() {
        for body in [
            #"{"error_code": ""}"#, #"{"error_code": "has space"}"#, #"{"error_code": "\#(String(repeating: "9", count: 65))"}"#,
            #"{"error_code": "a\u0000b"}"#, #"{"error_code": 1.5}"#, #"{"error_code": {"x": 1}}"#, #"{"error_code": null}"#, "not json",
            #"["error_code"]"#,
        ] {
            guard case .permanent(_, let code) = answer(400, body) else { return XCTFail(body) }
            XCTAssertNil(code, body)
        }
    }

    func testOnlyRejectionsCarryACode() {
        XCTAssertEqual(answer(200, #"{"message_id": "m1", "error_code": "1"}"#), .accepted(providerMessageID: "m1"))
        guard case .temporary = answer(503, #"{"error_code": "1"}"#) else { return XCTFail() }
    }

    func testTheCodeRules() {
        XCTAssertEqual(ProviderErrorCode.parse(.string("E.164-bad_1")), "E.164-bad_1")
        XCTAssertEqual(ProviderErrorCode.parse(.number(-3)), "-3")
        XCTAssertNil(ProviderErrorCode.parse(.number(1e20)))
        XCTAssertNil(ProviderErrorCode.parse(.bool(true)))
        XCTAssertFalse(ProviderErrorCode.isValid("é"))
    }

    func testTheTextRules() {
        XCTAssertEqual(ProviderErrorText.parse(.string("Handset \"busy\" {é} 不在")), "Handset \"busy\" {é} 不在")
        XCTAssertEqual(ProviderErrorText.parse(.string(String(repeating: "x", count: 200))), String(repeating: "x", count: 200))
        for bad: JSONValue in [.string(""), .string("   "), .string(String(repeating: "x", count: 201)), .string("a\nb"), .string("a\u{2028}b"), .number(7)] {
            XCTAssertNil(ProviderErrorText.parse(bad), "\(bad)")
        }
    }
}
