import TextingFastCGI
import TextingService
import TextingSupport
import XCTest

/// `SenderConfiguration` as loaded from a fixed environment; every bad value must be reported
/// under the name of the variable that holds it.
final class SenderConfigurationTests: XCTestCase {
    private let complete: [String: String] = [
        "TEXTING_DATABASE_URL": "postgresql:///texting?host=/run/postgresql",
        "TEXTING_PROVIDERS": "p1=http://127.0.0.1:9101/send;weight=30,p2=http://127.0.0.1:9102/send;weight=70",
        "TEXTING_PUBLIC_BASE_URL": "https://sms.example.com/",
        "TEXTING_CALLBACK_SECRET": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    ]

    private func environment(_ changes: [String: String?]) -> EnvironmentReader {
        var values = complete
        for (name, value) in changes { values[name] = value }
        return EnvironmentReader(values)
    }

    private func assertRejected(
        _ changes: [String: String?], setting: String,
        file: StaticString = #filePath, line: UInt = #line
    ) {
        do {
            _ = try SenderConfiguration(environment(changes))
            XCTFail("\(changes) was accepted", file: file, line: line)
        } catch {
            XCTAssertEqual(error.setting, setting, error.problem, file: file, line: line)
            XCTAssertFalse(error.problem.isEmpty, file: file, line: line)
            XCTAssertTrue(error.description.contains(setting), file: file, line: line)
        }
    }

    func testCompleteEnvironmentLoadsWithDefaults() throws {
        let configuration = try SenderConfiguration(EnvironmentReader(complete))
        XCTAssertEqual(configuration.databaseURL, "postgresql:///texting?host=/run/postgresql")
        XCTAssertEqual(configuration.providers.map(\.name), ["p1", "p2"])
        XCTAssertEqual(configuration.providers.map(\.weight), [30, 70])
        XCTAssertEqual(configuration.publicBaseURL, "https://sms.example.com", "trailing slash is trimmed")
        XCTAssertEqual(configuration.signer.maximumAgeSeconds, 7 * 24 * 3600)
        XCTAssertEqual(configuration.batchSize, 100)
        XCTAssertEqual(configuration.concurrency, 200)
        XCTAssertEqual(configuration.providerTimeoutMilliseconds, 5000)
        XCTAssertEqual(configuration.maximumAttempts, 6)
        XCTAssertEqual(configuration.runSeconds, 55)
    }

    func testExplicitNumericSettingsAreRead() throws {
        let configuration = try SenderConfiguration(
            environment([
                "TEXTING_SENDER_BATCH_SIZE": " 250 ",
                "TEXTING_SENDER_CONCURRENCY": "16",
                "TEXTING_PROVIDER_TIMEOUT_MS": "120000",
                "TEXTING_BACKOFF_BASE_MS": "1000",
                "TEXTING_BACKOFF_MAX_MS": "1000",
                "TEXTING_MAX_ATTEMPTS": "3",
                "TEXTING_SENDER_RUN_SECONDS": "3600",
                "TEXTING_CALLBACK_MAX_AGE": "60",
            ]))
        XCTAssertEqual(configuration.batchSize, 250)
        XCTAssertEqual(configuration.concurrency, 16)
        XCTAssertEqual(configuration.providerTimeoutMilliseconds, 120_000)
        XCTAssertEqual(configuration.maximumAttempts, 3)
        XCTAssertEqual(configuration.runSeconds, 3600)
        XCTAssertEqual(configuration.signer.maximumAgeSeconds, 60)
    }

    func testEmptyOptionalValueMeansDefault() throws {
        XCTAssertEqual(try SenderConfiguration(environment(["TEXTING_SENDER_BATCH_SIZE": ""])).batchSize, 100)
    }

    func testSignerFromConfigurationVerifiesItsOwnQueries() throws {
        let signer = try SenderConfiguration(EnvironmentReader(complete)).signer
        let query = signer.signedQuery(messageID: "3f2504e0-4f89-41d3-9a0c-0305e82c3301", issuedAt: 1_700_000_000)
        let parameters = HTTPServerRequest(method: "POST", path: "/", queryString: query).queryParameters
        XCTAssertEqual(signer.verify(parameters: parameters, now: 1_700_000_010)?.messageID, "3f2504e0-4f89-41d3-9a0c-0305e82c3301")
    }

    func testMissingDatabaseURLNamesTheSetting() {
        assertRejected(["TEXTING_DATABASE_URL": nil], setting: "TEXTING_DATABASE_URL")
        assertRejected(["TEXTING_DATABASE_URL": ""], setting: "TEXTING_DATABASE_URL")
    }

    func testMissingProvidersNamesTheSetting() {
        assertRejected(["TEXTING_PROVIDERS": nil], setting: "TEXTING_PROVIDERS")
    }

    func testBadProvidersNamesTheSetting() {
        assertRejected(["TEXTING_PROVIDERS": "p1"], setting: "TEXTING_PROVIDERS")
        assertRejected(["TEXTING_PROVIDERS": "p1=127.0.0.1:9101/send"], setting: "TEXTING_PROVIDERS")
        assertRejected(["TEXTING_PROVIDERS": "p1=http://a/send;weight=0"], setting: "TEXTING_PROVIDERS")
        assertRejected(["TEXTING_PROVIDERS": "p1=http://a/send,p1=http://b/send"], setting: "TEXTING_PROVIDERS")
    }

    func testMissingOrShortCallbackSecretNamesTheSetting() {
        assertRejected(["TEXTING_CALLBACK_SECRET": nil], setting: "TEXTING_CALLBACK_SECRET")
        assertRejected(["TEXTING_CALLBACK_SECRET": String(repeating: "k", count: 31)], setting: "TEXTING_CALLBACK_SECRET")
        XCTAssertNoThrow(try SenderConfiguration(environment(["TEXTING_CALLBACK_SECRET": String(repeating: "k", count: 32)])))
    }

    func testCallbackMaxAgeOutOfRangeNamesTheSetting() {
        assertRejected(["TEXTING_CALLBACK_MAX_AGE": "59"], setting: "TEXTING_CALLBACK_MAX_AGE")
        assertRejected(["TEXTING_CALLBACK_MAX_AGE": "1w"], setting: "TEXTING_CALLBACK_MAX_AGE")
    }

    func testPublicBaseURLWithoutSchemeNamesTheSetting() {
        assertRejected(["TEXTING_PUBLIC_BASE_URL": "sms.example.com"], setting: "TEXTING_PUBLIC_BASE_URL")
        assertRejected(["TEXTING_PUBLIC_BASE_URL": "//sms.example.com"], setting: "TEXTING_PUBLIC_BASE_URL")
        assertRejected(["TEXTING_PUBLIC_BASE_URL": "ftp://sms.example.com"], setting: "TEXTING_PUBLIC_BASE_URL")
    }

    func testPublicBaseURLWithoutHostNamesTheSetting() {
        assertRejected(["TEXTING_PUBLIC_BASE_URL": "https://"], setting: "TEXTING_PUBLIC_BASE_URL")
        assertRejected(["TEXTING_PUBLIC_BASE_URL": nil], setting: "TEXTING_PUBLIC_BASE_URL")
    }

    func testNonNumericBatchSizeNamesTheSetting() {
        assertRejected(["TEXTING_SENDER_BATCH_SIZE": "lots"], setting: "TEXTING_SENDER_BATCH_SIZE")
        assertRejected(["TEXTING_SENDER_BATCH_SIZE": "10.5"], setting: "TEXTING_SENDER_BATCH_SIZE")
        assertRejected(["TEXTING_SENDER_BATCH_SIZE": "99999999999999999999999"], setting: "TEXTING_SENDER_BATCH_SIZE")
    }

    func testOutOfRangeBatchSizeNamesTheSetting() {
        assertRejected(["TEXTING_SENDER_BATCH_SIZE": "0"], setting: "TEXTING_SENDER_BATCH_SIZE")
        assertRejected(["TEXTING_SENDER_BATCH_SIZE": "1001"], setting: "TEXTING_SENDER_BATCH_SIZE")
        assertRejected(["TEXTING_SENDER_BATCH_SIZE": "-5"], setting: "TEXTING_SENDER_BATCH_SIZE")
        XCTAssertEqual(try SenderConfiguration(environment(["TEXTING_SENDER_BATCH_SIZE": "1000"])).batchSize, 1000)
    }

    func testOutOfRangeProviderTimeoutNamesTheSetting() {
        assertRejected(["TEXTING_PROVIDER_TIMEOUT_MS": "99"], setting: "TEXTING_PROVIDER_TIMEOUT_MS")
    }

    func testBackoffMaximumBelowBaseNamesTheMaximum() {
        assertRejected(["TEXTING_BACKOFF_BASE_MS": "5000", "TEXTING_BACKOFF_MAX_MS": "4999"], setting: "TEXTING_BACKOFF_MAX_MS")
        assertRejected(["TEXTING_BACKOFF_MAX_MS": "1000"], setting: "TEXTING_BACKOFF_MAX_MS")  // below the default base of 2000
    }

    func testLeaseIsLongerThanTwiceTheProviderTimeout() throws {
        for timeout in ["100", "999", "5000", "30001", "120000"] {
            let configuration = try SenderConfiguration(environment(["TEXTING_PROVIDER_TIMEOUT_MS": timeout]))
            XCTAssertGreaterThan(configuration.leaseSeconds * 1000, 2 * configuration.providerTimeoutMilliseconds, timeout)
        }
    }
}
