import TextingService
import TextingSupport
import XCTest

final class ServiceConfigurationTests: XCTestCase {
    private func assertRejected(
        _ name: String, _ value: String, file: StaticString = #filePath, line: UInt = #line,
        _ load: (EnvironmentReader) throws -> Any
    ) {
        XCTAssertThrowsError(try load(EnvironmentReader([name: value])), "\(name)=\(value)", file: file, line: line) { error in
            XCTAssertEqual((error as? ConfigurationError)?.setting, name, "\(name)=\(value)", file: file, line: line)
        }
    }

    func testDatabaseURLIsRequired() throws {
        XCTAssertEqual(
            try ServiceSettings.databaseURL.read(EnvironmentReader(["TEXTING_DATABASE_URL": "postgresql://texting@db/texting"])),
            "postgresql://texting@db/texting")
        assertRejected("TEXTING_DATABASE_URL", "") { try ServiceSettings.databaseURL.read($0) }
    }

    func testPublicBaseURLKeepsPathPrefixButDropsTrailingSlashes() throws {
        let url = try ServiceSettings.publicBaseURL.read(EnvironmentReader(["TEXTING_PUBLIC_BASE_URL": "http://10.0.0.5:8080/texting//"]))
        XCTAssertEqual(url, "http://10.0.0.5:8080/texting")
    }

    func testPublicBaseURLWithoutSchemeOrHostIsRejected() {
        for bad in ["sms.example.com", "https://", "http:/sms.example.com", "ftp://sms.example.com"] {
            assertRejected("TEXTING_PUBLIC_BASE_URL", bad) { try ServiceSettings.publicBaseURL.read($0) }
        }
    }

    func testShortCallbackSecretIsRejected() {
        assertRejected("TEXTING_CALLBACK_SECRET", "openssl-rand-hex-16-is-too-few") { try ServiceConfiguration.callbackSigner($0) }
    }

    func testCallbackMaxAgeDefaultsToAWeek() throws {
        let signer = try ServiceConfiguration.callbackSigner(EnvironmentReader(["TEXTING_CALLBACK_SECRET": String(repeating: "s", count: 64)]))
        XCTAssertEqual(signer.maximumAgeSeconds, 604_800)
    }

    func testWebhookDestinationsArePublicUnlessSaidAndOnlyTheThreeModesAreKnown() throws {
        XCTAssertEqual(try ServiceConfiguration.webhookURLRules(EnvironmentReader([:])).destinations, .publicOnly)
        XCTAssertFalse(try ServiceConfiguration.webhookURLRules(EnvironmentReader([:])).allowHTTP)
        for (value, rules) in [("public", NetworkDestinationRules.publicOnly), ("Private", .privateToo), ("local", .localOnly)] {
            XCTAssertEqual(try ServiceSettings.webhookDestinations.read(EnvironmentReader(["TEXTING_WEBHOOK_DESTINATIONS": value])), rules, value)
        }
        for bad in ["on", "loopback", "public,private"] {
            assertRejected("TEXTING_WEBHOOK_DESTINATIONS", bad) { try ServiceSettings.webhookDestinations.read($0) }
        }
    }

    func testDefaultCountryCodeDefaultsToOneAndIsTrimmed() throws {
        XCTAssertEqual(try ServiceSettings.defaultCountryCode.read(EnvironmentReader([:])), "1")
        XCTAssertEqual(try ServiceSettings.defaultCountryCode.read(EnvironmentReader(["TEXTING_DEFAULT_COUNTRY_CODE": " 44 "])), "44")
    }

    func testBadDefaultCountryCodeNamesTheSetting() {
        for bad in ["+44", "0", "044", "1234", "uk"] {
            XCTAssertThrowsError(try ServiceSettings.defaultCountryCode.read(EnvironmentReader(["TEXTING_DEFAULT_COUNTRY_CODE": bad])), bad) { error in
                XCTAssertEqual((error as? ConfigurationError)?.setting, "TEXTING_DEFAULT_COUNTRY_CODE", bad)
            }
        }
    }

    func testFastCGIThreadsRangeIsChecked() throws {
        // The default is the one `--help` and the README state.
        XCTAssertEqual(String(try ServiceSettings.fastCGIThreads.read(EnvironmentReader([:]))), ServiceSettings.fastCGIThreads.description.defaultText)
        XCTAssertThrowsError(try ServiceSettings.fastCGIThreads.read(EnvironmentReader(["TEXTING_FCGI_THREADS": "0"]))) { error in
            XCTAssertEqual((error as? ConfigurationError)?.setting, "TEXTING_FCGI_THREADS")
        }
    }

    func testCommitConnectionsRangeIsChecked() throws {
        XCTAssertEqual(String(try ServiceSettings.commitConnections.read(EnvironmentReader([:]))), ServiceSettings.commitConnections.description.defaultText)
        XCTAssertEqual(try ServiceSettings.commitConnections.read(EnvironmentReader(["TEXTING_COMMIT_CONNECTIONS": "4"])), 4)
        for bad in ["0", "65", "two"] {
            XCTAssertThrowsError(try ServiceSettings.commitConnections.read(EnvironmentReader(["TEXTING_COMMIT_CONNECTIONS": bad])), bad) { error in
                XCTAssertEqual((error as? ConfigurationError)?.setting, "TEXTING_COMMIT_CONNECTIONS", bad)
            }
        }
    }

    func testDeliveryReportsCommitOnOneConnectionUnlessToldAndOnlyDeliveryFCGIReadsIt() throws {
        // One committer makes larger batches of reports: their statement is parsed and planned
        // once per batch, and two committers' statements only contended for the same cores.
        XCTAssertEqual(try ServiceSettings.reportCommitConnections.read(EnvironmentReader([:])), 1)
        XCTAssertEqual(try ServiceSettings.reportCommitConnections.read(EnvironmentReader(["TEXTING_REPORT_COMMIT_CONNECTIONS": "3"])), 3)
        for bad in ["0", "65", "one"] {
            XCTAssertThrowsError(try ServiceSettings.reportCommitConnections.read(EnvironmentReader(["TEXTING_REPORT_COMMIT_CONNECTIONS": bad])), bad) {
                error in
                XCTAssertEqual((error as? ConfigurationError)?.setting, "TEXTING_REPORT_COMMIT_CONNECTIONS", bad)
            }
        }
        XCTAssertEqual(ServiceSettings.reportCommitConnections.description.readers, [ServiceSettings.deliveryFCGI])
        XCTAssertEqual(ServiceSettings.commitConnections.description.readers, [ServiceSettings.messagesFCGI])
    }

    func testPreparedStatementsAreOnByDefaultAndCanBeTurnedOff() throws {
        XCTAssertTrue(try ServiceSettings.preparedStatements.read(EnvironmentReader([:])))
        XCTAssertFalse(try ServiceSettings.preparedStatements.read(EnvironmentReader(["TEXTING_DATABASE_PREPARED_STATEMENTS": "off"])))
        XCTAssertTrue(try ServiceSettings.preparedStatements.read(EnvironmentReader(["TEXTING_DATABASE_PREPARED_STATEMENTS": "ON"])))
    }

    func testAnythingElseNamesTheSetting() {
        XCTAssertThrowsError(try ServiceSettings.preparedStatements.read(EnvironmentReader(["TEXTING_DATABASE_PREPARED_STATEMENTS": "maybe"]))) { error in
            XCTAssertEqual((error as? ConfigurationError)?.setting, "TEXTING_DATABASE_PREPARED_STATEMENTS")
        }
    }
}
