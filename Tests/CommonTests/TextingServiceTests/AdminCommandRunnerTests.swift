import TextingService
import TextingSupport
import XCTest

/// The commands that need no database, carried out as `textingctl` carries them out.
final class AdminCommandRunnerTests: XCTestCase {
    // No TEXTING_DATABASE_URL: a command that tried to connect would throw.
    private let runner = AdminCommandRunner(environment: EnvironmentReader([:]))

    func testSqlListsTheStatementsAndPrintsOne() throws {
        guard case .done(let names) = try runner.run(.sql(name: nil)) else { return XCTFail() }
        XCTAssertTrue(names.split(separator: "\n").contains("jobs.claim"), names)
        guard case .done(let claim) = try runner.run(.sql(name: "jobs.claim")) else { return XCTFail() }
        XCTAssertTrue(claim.contains("FOR UPDATE SKIP LOCKED") && claim.hasSuffix("\n"), claim)
        XCTAssertEqual(
            try runner.run(.sql(name: "jobs.nothing")), .failed(message: "no statement is called jobs.nothing; `textingctl sql` lists them", status: 2))
    }

    func testSettingsPrintTheDeclarations() throws {
        XCTAssertEqual(try runner.run(.settings(.table)), .done(output: ServiceSettings.markdownTable))
        XCTAssertEqual(try runner.run(.settings(.example)), .done(output: ServiceSettings.exampleFile))
    }

    func testAMalformedNumberIsRefusedBeforeAnyConnection() throws {
        guard case .failed(let message, 2) = try runner.run(.numbersReactivate(number: "12")) else { return XCTFail() }
        XCTAssertTrue(message.hasPrefix("numbers reactivate: "), message)
        guard case .failed(let optOut, 2) = try runner.run(.optOutsAdd(number: "12", reason: "test")) else { return XCTFail() }
        XCTAssertTrue(optOut.hasPrefix("optouts add: "), optOut)
    }

    func testACommandThatNeedsTheDatabaseSaysWhichSettingIsMissing() {
        XCTAssertThrowsError(try runner.run(.stats)) { error in
            XCTAssertEqual((error as? ConfigurationError)?.setting, "TEXTING_DATABASE_URL")
        }
    }
}
