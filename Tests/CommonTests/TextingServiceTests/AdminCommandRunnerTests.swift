import TextingDomain
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

    func testEachProviderHasASignedInboundURLThatVerifies() throws {
        let secret = String(repeating: "k", count: 40)
        let environment = EnvironmentReader([
            "TEXTING_PROVIDERS": "p1=https://one.example/send,p2=https://two.example/send;weight=3",
            "TEXTING_PUBLIC_BASE_URL": "https://sms.example.com", "TEXTING_CALLBACK_SECRET": secret,
        ])
        guard case .done(let output) = try AdminCommandRunner(environment: environment).run(.providersInboundURL) else { return XCTFail() }
        let lines = output.split(separator: "\n").map { $0.split(separator: "\t").map(String.init) }
        XCTAssertEqual(lines.map(\.[0]), ["p1", "p2"])
        let signer = CallbackSigner(secret: secret, maximumAgeSeconds: 3600)
        for line in lines {
            XCTAssertTrue(line[1].hasPrefix("https://sms.example.com/messages/inbound?prv=\(line[0])&sig="), line[1])
            let query = line[1].split(separator: "?")[1].split(separator: "&").map { $0.split(separator: "=").map(String.init) }
            XCTAssertEqual(signer.verifyInbound(parameters: Dictionary(uniqueKeysWithValues: query.map { ($0[0], $0[1]) })), line[0])
        }
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
