import MockProviderKit
import TextingService
import TextingSupport
import XCTest

final class ProgramDescriptionTests: XCTestCase {
    private let all = [
        ProgramCatalog.messagesFCGI, ProgramCatalog.deliveryFCGI, ProgramCatalog.adminFCGI, ProgramCatalog.senderCron,
        MockProviderProgram.description, ProgramCatalog.textingctl,
    ]

    func testHelpAndVersionAreAnsweredWhereverTheyStandForAService() {
        let sender = ProgramCatalog.senderCron
        XCTAssertEqual(sender.request(for: []), .run)
        XCTAssertEqual(sender.request(for: ["--once"]), .run)
        XCTAssertEqual(sender.request(for: ["--once", "--help"]), .help)
        XCTAssertEqual(sender.request(for: ["-h"]), .help)
        XCTAssertEqual(sender.request(for: ["--version"]), .version)
        XCTAssertEqual(sender.request(for: ["--help", "--version"]), .help)
    }

    func testAnArgumentAServiceDoesNotTakeIsNamed() {
        XCTAssertEqual(ProgramCatalog.messagesFCGI.request(for: ["--once"]), .unknownArgument("--once"))
        XCTAssertEqual(ProgramCatalog.senderCron.request(for: ["--once", "now"]), .unknownArgument("now"))
        XCTAssertEqual(MockProviderProgram.description.request(for: ["-v"]), .unknownArgument("-v"))
    }

    func testTextingctlReadsOnlyItsFirstArgumentAndShowsHelpWithoutOne() {
        let ctl = ProgramCatalog.textingctl
        XCTAssertEqual(ctl.request(for: []), .help)
        XCTAssertEqual(ctl.request(for: ["help"]), .help)
        XCTAssertEqual(ctl.request(for: ["--version"]), .version)
        XCTAssertEqual(ctl.request(for: ["stats"]), .run)
        // A key may be named like an option: the command reads its own arguments.
        XCTAssertEqual(ctl.request(for: ["keys", "create", "--help"]), .run)
        XCTAssertEqual(ctl.request(for: ["frobnicate"]), .run)
    }

    func testVersionTextIsTheNameAndTheOneVersion() {
        XCTAssertFalse(TextingVersion.current.isEmpty)
        for program in all {
            XCTAssertEqual(program.versionText, "\(program.name) \(TextingVersion.current)")
        }
    }

    func testHelpNamesTheProgramItsUsageAndEverySettingWithItsDefault() {
        for program in all {
            let help = program.helpText
            XCTAssertTrue(help.hasPrefix("\(program.name) \(TextingVersion.current): "), help)
            XCTAssertTrue(help.contains("usage: "), help)
            XCTAssertTrue(help.contains("--help | --version"), help)
            XCTAssertFalse(program.settings.isEmpty, program.name)
            XCTAssertEqual(Set(program.settings.map(\.name)).count, program.settings.count, "\(program.name) lists a setting twice")
            for setting in program.settings {
                let line = help.split(separator: "\n").first { $0.hasPrefix("  \(setting.name) ") }
                XCTAssertNotNil(line, "\(program.name): \(setting.name)")
                let fallback = setting.isRequired ? "(required)" : "(default: \(setting.defaultText))"
                XCTAssertTrue(line?.hasSuffix(fallback) ?? false, String(line ?? ""))
            }
        }
        XCTAssertTrue(ProgramCatalog.senderCron.helpText.contains("--once  "))
    }

    func testServicesThatReachTheDatabaseListItsSettings() {
        for program in [
            ProgramCatalog.messagesFCGI, ProgramCatalog.deliveryFCGI, ProgramCatalog.adminFCGI, ProgramCatalog.senderCron, ProgramCatalog.textingctl,
        ] {
            let names = program.settings.map(\.name)
            XCTAssertTrue(names.contains("TEXTING_DATABASE_URL"), program.name)
            XCTAssertTrue(names.contains("TEXTING_DATABASE_PREPARED_STATEMENTS"), program.name)
        }
        XCTAssertTrue(ProgramCatalog.deliveryFCGI.settings.map(\.name).contains("TEXTING_CALLBACK_SECRET"))
        XCTAssertTrue(ProgramCatalog.senderCron.settings.map(\.name).contains("TEXTING_PROVIDERS"))
    }

    func testTextingctlHelpListsEveryCommand() {
        let help = ProgramCatalog.textingctl.helpText
        for command in ["migrate", "keys create", "keys list", "keys revoke", "numbers reactivate", "messages requeue", "stats", "prune"] {
            XCTAssertTrue(help.contains("textingctl \(command)"), command)
        }
    }
}
