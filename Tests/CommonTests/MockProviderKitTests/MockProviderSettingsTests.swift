import TextingFastCGI
import TextingSupport
import XCTest

// @testable: checks the mock's dice (`answer`, `drawStatus`) with chosen draws; they are
// internal so that the mock's public face stays its HTTP behaviour.
@testable import MockProviderKit

final class MockProviderSettingsTests: XCTestCase {
    private func assertRejected(_ values: [String: String], setting: String, file: StaticString = #filePath, line: UInt = #line) {
        do {
            let settings = try MockProviderSettings(EnvironmentReader(values))
            XCTFail("accepted \(settings)", file: file, line: line)
        } catch {
            XCTAssertEqual(error.setting, setting, file: file, line: line)
        }
    }

    private func assertUpdateRejected(
        _ json: [String: JSONValue], _ code: ProblemCode, field: String,
        file: StaticString = #filePath, line: UInt = #line
    ) {
        var settings = MockProviderSettings()
        do {
            try settings.update(from: json)
            XCTFail("accepted \(json)", file: file, line: line)
        } catch {
            XCTAssertEqual(error.code, code, file: file, line: line)
            XCTAssertEqual(error.field, field, file: file, line: line)
        }
    }

    func testEmptyEnvironmentGivesDefaults() throws {
        let settings = try MockProviderSettings(EnvironmentReader([:]))
        XCTAssertEqual(settings, MockProviderSettings())
        XCTAssertEqual(settings.failureRate, 0)
        XCTAssertEqual(settings.rejectRate, 0)
        XCTAssertEqual(settings.retryAfterSeconds, 1)
        XCTAssertEqual(settings.callbackDelayMilliseconds, 200)
        XCTAssertEqual(settings.callbackStatuses, ["delivered": 100])
        XCTAssertFalse(settings.callbackBeforeAnswer)
    }

    func testEnvironmentValuesAreRead() throws {
        let settings = try MockProviderSettings(
            EnvironmentReader([
                "MOCK_LATENCY_MS": "250",
                "MOCK_FAILURE_RATE": "0.5",
                "MOCK_RATE_LIMIT_RATE": "1",
                "MOCK_REJECT_RATE": "0.25",
                "MOCK_RETRY_AFTER_SECONDS": "7",
                "MOCK_CALLBACK_DELAY_MS": "-1",
                "MOCK_CALLBACK_STATUSES": "delivered=90,invalid=10",
                "MOCK_CALLBACK_EARLY": "1",
            ]))
        XCTAssertEqual(settings.latencyMilliseconds, 250)
        XCTAssertEqual(settings.failureRate, 0.5)
        XCTAssertEqual(settings.rateLimitRate, 1)
        XCTAssertEqual(settings.rejectRate, 0.25)
        XCTAssertEqual(settings.retryAfterSeconds, 7)
        XCTAssertEqual(settings.callbackDelayMilliseconds, -1)
        XCTAssertEqual(settings.callbackStatuses, ["delivered": 90, "invalid": 10])
        XCTAssertTrue(settings.callbackBeforeAnswer)
    }

    func testBadRejectRateOrRetryAfterIsRejected() {
        assertRejected(["MOCK_REJECT_RATE": "1.01"], setting: "MOCK_REJECT_RATE")
        assertRejected(["MOCK_REJECT_RATE": "-1"], setting: "MOCK_REJECT_RATE")
        assertRejected(["MOCK_RETRY_AFTER_SECONDS": "-1"], setting: "MOCK_RETRY_AFTER_SECONDS")
        assertRejected(["MOCK_RETRY_AFTER_SECONDS": "3601"], setting: "MOCK_RETRY_AFTER_SECONDS")
        assertRejected(["MOCK_RETRY_AFTER_SECONDS": "1.5"], setting: "MOCK_RETRY_AFTER_SECONDS")
    }

    func testFailureRateAboveOneIsRejected() {
        assertRejected(["MOCK_FAILURE_RATE": "1.5"], setting: "MOCK_FAILURE_RATE")
    }

    func testNegativeOrNonNumericRateIsRejected() {
        assertRejected(["MOCK_FAILURE_RATE": "-0.1"], setting: "MOCK_FAILURE_RATE")
        assertRejected(["MOCK_FAILURE_RATE": "half"], setting: "MOCK_FAILURE_RATE")
        assertRejected(["MOCK_RATE_LIMIT_RATE": "50%"], setting: "MOCK_RATE_LIMIT_RATE")
        assertRejected(["MOCK_FAILURE_RATE": "nan"], setting: "MOCK_FAILURE_RATE")
    }

    func testStatusWithoutWeightIsRejected() {
        assertRejected(["MOCK_CALLBACK_STATUSES": "delivered"], setting: "MOCK_CALLBACK_STATUSES")
    }

    func testMalformedStatusMixesAreRejected() {
        for mix in ["delivered=ninety", "delivered=-1", "delivered=1=2", ",", "=5"] {
            assertRejected(["MOCK_CALLBACK_STATUSES": mix], setting: "MOCK_CALLBACK_STATUSES")
        }
    }

    func testStatusMixToleratesSpaces() throws {
        let settings = try MockProviderSettings(EnvironmentReader(["MOCK_CALLBACK_STATUSES": "delivered = 90, failed=5 ,invalid=5"]))
        XCTAssertEqual(settings.callbackStatuses, ["delivered": 90, "failed": 5, "invalid": 5])
    }

    func testCallbackEarlyNeedsExactlyOne() throws {
        XCTAssertFalse(try MockProviderSettings(EnvironmentReader(["MOCK_CALLBACK_EARLY": "true"])).callbackBeforeAnswer)
        XCTAssertFalse(try MockProviderSettings(EnvironmentReader(["MOCK_CALLBACK_EARLY": "0"])).callbackBeforeAnswer)
    }

    func testOutOfRangeLatencyIsRejected() {
        assertRejected(["MOCK_LATENCY_MS": "60001"], setting: "MOCK_LATENCY_MS")
        assertRejected(["MOCK_CALLBACK_DELAY_MS": "-2"], setting: "MOCK_CALLBACK_DELAY_MS")
    }

    func testUpdateAppliesKnownSettings() throws {
        var settings = MockProviderSettings()
        try settings.update(from: [
            "latency_ms": 1500,
            "failure_rate": .number(0.25),
            "rate_limit_rate": .number(0.1),
            "reject_rate": .number(0.3),
            "retry_after_seconds": 2,
            "callback_delay_ms": -1,
            "callback_before_answer": true,
            "callback_statuses": ["failed": 1, "invalid": 3],
        ])
        XCTAssertEqual(settings.latencyMilliseconds, 1500)
        XCTAssertEqual(settings.failureRate, 0.25)
        XCTAssertEqual(settings.rateLimitRate, 0.1)
        XCTAssertEqual(settings.rejectRate, 0.3)
        XCTAssertEqual(settings.retryAfterSeconds, 2)
        XCTAssertEqual(settings.callbackDelayMilliseconds, -1)
        XCTAssertTrue(settings.callbackBeforeAnswer)
        XCTAssertEqual(settings.callbackStatuses, ["failed": 1, "invalid": 3])
    }

    func testUpdateLeavesUnmentionedSettingsAlone() throws {
        var settings = MockProviderSettings()
        settings.latencyMilliseconds = 40
        try settings.update(from: ["failure_rate": 1])
        XCTAssertEqual(settings.latencyMilliseconds, 40)
        XCTAssertEqual(settings.failureRate, 1)
        XCTAssertEqual(settings.callbackStatuses, ["delivered": 100])
    }

    func testEmptyUpdateChangesNothing() throws {
        var settings = MockProviderSettings()
        try settings.update(from: [:])
        XCTAssertEqual(settings, MockProviderSettings())
    }

    func testUpdateWithOutOfRangeRejectRateOrRetryAfterChangesNothing() {
        assertUpdateRejected(["reject_rate": .number(1.5)], .invalidParameter, field: "reject_rate")
        assertUpdateRejected(["retry_after_seconds": -1], .invalidParameter, field: "retry_after_seconds")
        assertUpdateRejected(["retry_after_seconds": .number(0.5)], .invalidParameter, field: "retry_after_seconds")
        assertUpdateRejected(["retry_after_seconds": 3601], .invalidParameter, field: "retry_after_seconds")
        var settings = MockProviderSettings()
        XCTAssertThrowsError(try settings.update(from: ["reject_rate": .number(0.5), "retry_after_seconds": 4000]))
        XCTAssertEqual(settings, MockProviderSettings(), "all or none")
    }

    func testDiceDecideFailureThenRateLimitThenRejection() throws {
        var settings = MockProviderSettings()
        XCTAssertEqual(settings.answer(roll: 0), .acceptance)
        try settings.update(from: ["failure_rate": .number(0.2), "rate_limit_rate": .number(0.3), "reject_rate": .number(0.1)])
        XCTAssertEqual(settings.answer(roll: 0), .failure)
        XCTAssertEqual(settings.answer(roll: 0.19), .failure)
        XCTAssertEqual(settings.answer(roll: 0.2), .rateLimit)
        XCTAssertEqual(settings.answer(roll: 0.49), .rateLimit)
        XCTAssertEqual(settings.answer(roll: 0.5), .rejection)
        XCTAssertEqual(settings.answer(roll: 0.59), .rejection)
        XCTAssertEqual(settings.answer(roll: 0.6), .acceptance)
        XCTAssertEqual(settings.answer(roll: 0.999), .acceptance)
        try settings.update(from: ["failure_rate": 0, "rate_limit_rate": 0, "reject_rate": 1])
        XCTAssertEqual(settings.answer(roll: 0), .rejection)
        XCTAssertEqual(settings.answer(roll: 0.999), .rejection)
        try settings.update(from: ["failure_rate": 1])
        XCTAssertEqual(settings.answer(roll: 0.999), .failure, "failure is decided first")
    }

    func testUpdateWithUnknownKeyIsUnknownField() {
        assertUpdateRejected(["latency": 100], .unknownField, field: "latency")
    }

    func testUpdateWithMistypedValueIsRejected() {
        assertUpdateRejected(["latency_ms": "100"], .unknownField, field: "latency_ms")
        assertUpdateRejected(["callback_before_answer": 1], .unknownField, field: "callback_before_answer")
    }

    func testUpdateWithNonNumericStatusWeightIsWrongType() {
        assertUpdateRejected(["callback_statuses": ["delivered": "90"]], .wrongType, field: "callback_statuses")
    }

    func testJSONReflectsTheSettings() throws {
        var settings = MockProviderSettings()
        try settings.update(from: ["failure_rate": .number(0.5), "callback_statuses": ["delivered": 9, "invalid": 1]])
        let json = settings.json
        XCTAssertEqual(json["failure_rate"], .number(0.5))
        XCTAssertEqual(json["latency_ms"], 0)
        XCTAssertEqual(json["reject_rate"], 0)
        XCTAssertEqual(json["retry_after_seconds"], 1)
        XCTAssertEqual(json["callback_delay_ms"], 200)
        XCTAssertEqual(json["callback_before_answer"], false)
        XCTAssertEqual(json["callback_statuses"], ["delivered": 9, "invalid": 1])
    }

    func testJSONFeedsBackIntoUpdate() throws {
        var original = MockProviderSettings()
        try original.update(from: ["latency_ms": 5, "reject_rate": .number(0.4), "retry_after_seconds": 3, "callback_statuses": ["failed": 2]])
        guard case .object(let members) = original.json else { return XCTFail("not an object") }
        var copy = MockProviderSettings()
        try copy.update(from: members)
        XCTAssertEqual(copy, original)
    }

    func testDrawnStatusComesFromTheMix() throws {
        var settings = MockProviderSettings()
        try settings.update(from: ["callback_statuses": ["invalid": 1, "failed": 0]])
        for _ in 0..<20 { XCTAssertEqual(settings.drawStatus(), "invalid") }
        try settings.update(from: ["callback_statuses": ["failed": 0]])
        XCTAssertEqual(settings.drawStatus(), "delivered", "an all-zero mix falls back to delivered")
    }
}
