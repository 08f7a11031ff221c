import TextingDomain
import TextingSupport
import XCTest

final class CallbackSignerTests: XCTestCase {
    private static let secret = "0123456789abcdef0123456789abcdef-callback"
    private let secret = CallbackSignerTests.secret
    private let messageID = "3f2504e0-4f89-41d3-9a0c-0305e82c3301"
    private let issuedAt = 1_700_000_000
    private let signer = CallbackSigner(secret: CallbackSignerTests.secret, maximumAgeSeconds: 3600)

    /// The query's parameters, first value of a name kept. The signer's own values need no
    /// percent-decoding; the real parser's part is `CallbackURLTests` (TextingServiceTests).
    private func parameters(_ query: String) -> [String: String] {
        var parameters: [String: String] = [:]
        for pair in query.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
            if parameters[parts[0]] == nil { parameters[parts[0]] = parts.count > 1 ? parts[1] : "" }
        }
        return parameters
    }

    private func signedParameters() -> [String: String] {
        parameters(signer.signedQuery(messageID: messageID, issuedAt: issuedAt))
    }

    func testSignedQueryVerifiesAndReturnsMessageID() {
        XCTAssertEqual(signer.verify(parameters: signedParameters(), now: issuedAt + 5)?.messageID, messageID)
    }

    func testSignedQueryHasMidTsAndLowercaseHexSig() {
        let parameters = signedParameters()
        XCTAssertEqual(parameters["mid"], messageID)
        XCTAssertEqual(parameters["ts"], String(issuedAt))
        let signature = parameters["sig"] ?? ""
        XCTAssertEqual(signature.count, 64)
        XCTAssertTrue(signature.allSatisfy { "0123456789abcdef".contains($0) }, signature)
    }

    func testSignatureIsHMACOverVersionMidAndTs() {
        let expected = Digest.hex(Digest.hmacSHA256(key: Array(secret.utf8), data: Array("v1|\(messageID)|\(issuedAt)".utf8)))
        XCTAssertEqual(signedParameters()["sig"], expected)
    }

    func testAnInboundURLIsSignedPerProviderAndCannotBeForgedOrMoved() {
        let query = parameters(signer.inboundQuery(provider: "p1"))
        XCTAssertEqual(signer.verifyInbound(parameters: query), "p1")
        let expected = Digest.hex(Digest.hmacSHA256(key: Array(secret.utf8), data: Array("inbound-v1|p1".utf8)))
        XCTAssertEqual(query["sig"], expected)
        // Another provider's name under p1's signature, a changed signature, none, or another secret's.
        XCTAssertNil(signer.verifyInbound(parameters: ["prv": "p2", "sig": query["sig"]!]))
        XCTAssertNil(signer.verifyInbound(parameters: ["prv": "p1", "sig": String(query["sig"]!.dropLast()) + "0"]))
        XCTAssertNil(signer.verifyInbound(parameters: ["prv": "p1"]))
        XCTAssertNil(signer.verifyInbound(parameters: ["prv": "p 1", "sig": query["sig"]!]))
        let other = CallbackSigner(secret: "another-secret-that-is-32-bytes-long!!", maximumAgeSeconds: 3600)
        XCTAssertNil(other.verifyInbound(parameters: query))
        // A delivery-report URL's signature is not an inbound one.
        XCTAssertNil(signer.verifyInbound(parameters: ["prv": "p1", "sig": signedParameters()["sig"]!]))
    }

    func testTamperedMessageIDIsRejected() {
        var parameters = signedParameters()
        parameters["mid"] = "3f2504e0-4f89-41d3-9a0c-0305e82c3302"
        XCTAssertNil(signer.verify(parameters: parameters, now: issuedAt))
    }

    func testTamperedTimestampIsRejected() {
        var parameters = signedParameters()
        parameters["ts"] = String(issuedAt + 1)
        XCTAssertNil(signer.verify(parameters: parameters, now: issuedAt + 1))
    }

    func testTamperedSignatureIsRejected() {
        var parameters = signedParameters()
        var signature = Array(parameters["sig"]!)
        signature[signature.count - 1] = signature.last == "0" ? "1" : "0"
        parameters["sig"] = String(signature)
        XCTAssertNil(signer.verify(parameters: parameters, now: issuedAt))
    }

    func testTruncatedOrEmptySignatureIsRejected() {
        var parameters = signedParameters()
        parameters["sig"] = String(parameters["sig"]!.dropLast(2))
        XCTAssertNil(signer.verify(parameters: parameters, now: issuedAt))
        parameters["sig"] = ""
        XCTAssertNil(signer.verify(parameters: parameters, now: issuedAt))
    }

    func testMissingAnyParameterIsRejected() {
        for name in ["mid", "ts", "sig"] {
            var parameters = signedParameters()
            parameters[name] = nil
            XCTAssertNil(signer.verify(parameters: parameters, now: issuedAt), "without \(name)")
        }
        XCTAssertNil(signer.verify(parameters: [:], now: issuedAt))
    }

    func testNonNumericTimestampIsRejected() {
        var parameters = signedParameters()
        parameters["ts"] = "\(issuedAt)abc"
        XCTAssertNil(signer.verify(parameters: parameters, now: issuedAt))
        parameters["ts"] = ""
        XCTAssertNil(signer.verify(parameters: parameters, now: issuedAt))
    }

    func testSignatureMadeWithAnotherSecretIsRejected() {
        let forger = CallbackSigner(secret: "another-secret-that-is-32-bytes-long!!", maximumAgeSeconds: 3600)
        let forged = parameters(forger.signedQuery(messageID: messageID, issuedAt: issuedAt))
        XCTAssertNil(signer.verify(parameters: forged, now: issuedAt))
        XCTAssertEqual(forger.verify(parameters: forged, now: issuedAt)?.messageID, messageID)
    }

    func testTimestampExactlyAtMaximumAgeIsAccepted() {
        XCTAssertEqual(signer.verify(parameters: signedParameters(), now: issuedAt + 3600)?.messageID, messageID)
    }

    func testStaleTimestampIsRejected() {
        XCTAssertNil(signer.verify(parameters: signedParameters(), now: issuedAt + 3601))
        XCTAssertNil(signer.verify(parameters: signedParameters(), now: issuedAt + 30 * 24 * 3600))
    }

    func testSmallClockSkewIntoTheFutureIsTolerated() {
        // The callback arrives on a host whose clock is 5 minutes behind the sender's.
        XCTAssertEqual(signer.verify(parameters: signedParameters(), now: issuedAt - 300)?.messageID, messageID)
    }

    func testTimestampFarInTheFutureIsRejected() {
        XCTAssertNil(signer.verify(parameters: signedParameters(), now: issuedAt - 301))
        let future = parameters(signer.signedQuery(messageID: messageID, issuedAt: issuedAt + 10 * 365 * 24 * 3600))
        XCTAssertNil(signer.verify(parameters: future, now: issuedAt))
    }

    func testUppercaseHexSignatureIsAccepted() {
        var parameters = signedParameters()
        parameters["sig"] = parameters["sig"]!.uppercased()
        XCTAssertEqual(signer.verify(parameters: parameters, now: issuedAt)?.messageID, messageID)
    }

    func testDifferentSecretLengthsGiveDifferentSignatures() {
        let a = CallbackSigner(secret: secret, maximumAgeSeconds: 60).signedQuery(messageID: messageID, issuedAt: issuedAt)
        let b = CallbackSigner(secret: secret + "x", maximumAgeSeconds: 60).signedQuery(messageID: messageID, issuedAt: issuedAt)
        XCTAssertNotEqual(a, b)
    }

    func testExtremeTimestampsAreRejectedWithoutOverflow() {
        for ts in [Int.min, Int.min + 1, Int.max] {
            XCTAssertNil(signer.verify(parameters: ["mid": messageID, "ts": String(ts), "sig": "00"], now: issuedAt))
        }
    }

    // MARK: URLs bound to an attempt (v2), which the sender issues

    private let attempt = CallbackAttempt(generation: 1, number: 3, provider: "p-2")

    func testAttemptBoundQueryVerifiesAndNamesTheAttempt() {
        let query = signer.signedQuery(messageID: messageID, attempt: attempt, issuedAt: issuedAt)
        XCTAssertEqual(
            query,
            "mid=\(messageID)&gen=1&att=3&prv=p-2&ts=\(issuedAt)&sig="
                + Digest.hex(Digest.hmacSHA256(key: Array(secret.utf8), data: Array("v2|\(messageID)|1|3|p-2|\(issuedAt)".utf8))))
        XCTAssertEqual(
            signer.verify(parameters: parameters(query), now: issuedAt + 5),
            CallbackSigner.SignedCallback(messageID: messageID, attempt: attempt))
    }

    func testChangingTheAttemptProviderOrGenerationBreaksTheSignature() {
        let signed = parameters(signer.signedQuery(messageID: messageID, attempt: attempt, issuedAt: issuedAt))
        for (name, value) in [("att", "4"), ("att", "03"), ("prv", "p1"), ("gen", "0"), ("gen", "2")] {
            var changed = signed
            changed[name] = value
            XCTAssertNil(signer.verify(parameters: changed, now: issuedAt), "\(name)=\(value)")
        }
    }

    func testDroppingTheAttemptFromABoundURLDoesNotMakeItAnOlderURL() {
        // Without gen/att/prv the same signature is checked as v1, and does not match.
        var stripped = parameters(signer.signedQuery(messageID: messageID, attempt: attempt, issuedAt: issuedAt))
        stripped["gen"] = nil
        stripped["att"] = nil
        stripped["prv"] = nil
        XCTAssertNil(signer.verify(parameters: stripped, now: issuedAt))
        var partial = parameters(signer.signedQuery(messageID: messageID, attempt: attempt, issuedAt: issuedAt))
        partial["prv"] = nil
        XCTAssertNil(signer.verify(parameters: partial, now: issuedAt))
    }

    func testMalformedAttemptFieldsAreRejected() {
        let signed = parameters(signer.signedQuery(messageID: messageID, attempt: attempt, issuedAt: issuedAt))
        for (name, value) in [
            ("att", "-1"), ("att", "+3"), ("att", ""), ("att", "99999999999999999999"), ("gen", "1.0"),
            ("prv", ""), ("prv", "p|2"), ("prv", String(repeating: "p", count: 33)),
        ] {
            var changed = signed
            changed[name] = value
            XCTAssertNil(signer.verify(parameters: changed, now: issuedAt), "\(name)=\(value)")
        }
    }

    func testOlderURLsWithoutAnAttemptStillVerifyWithNone() {
        XCTAssertEqual(signer.verify(parameters: signedParameters(), now: issuedAt)?.attempt, nil)
        XCTAssertNotNil(signer.verify(parameters: signedParameters(), now: issuedAt))
    }
}
