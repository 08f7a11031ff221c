import FoundationEssentials
import TextingFastCGI
import TextingService
import TextingSupport
import XCTest

/// The settings are declared once (`ServiceSettings`); the README's table and the example
/// settings file are printed from the declarations and must not drift from them.
final class SettingsDocumentsTests: XCTestCase {
    /// Tests/CommonTests/TextingServiceTests/this file → the repository.
    private func repositoryFile(_ path: String) throws -> String {
        var repository = URL(fileURLWithPath: #filePath)
        for _ in 0..<4 { repository = repository.deletingLastPathComponent() }
        return try String(contentsOf: repository.appendingPathComponent(path), encoding: .utf8)
    }

    func testTheReadmeTableIsTheDeclarations() throws {
        let readme = try repositoryFile("README.md")
        XCTAssertTrue(
            readme.contains(ServiceSettings.markdownTable),
            "README.md's settings table differs from the declarations: replace it with the output of `textingctl settings table`")
    }

    func testTheExampleSettingsFileIsTheDeclarations() throws {
        XCTAssertEqual(
            try repositoryFile("deploy/texting.env.example"), ServiceSettings.exampleFile,
            "deploy/texting.env.example differs from the declarations: `textingctl settings example > deploy/texting.env.example`")
    }

    func testEverySettingIsDeclaredOnceAndReadBySomeProgram() {
        let names = ServiceSettings.all.map(\.name)
        XCTAssertEqual(Set(names).count, names.count)
        let programs = Set(
            [ProgramCatalog.messagesFCGI, ProgramCatalog.deliveryFCGI, ProgramCatalog.adminFCGI, ProgramCatalog.senderCron, ProgramCatalog.textingctl].map(
                \.name))
        for setting in ServiceSettings.all {
            XCTAssertTrue(setting.name.hasPrefix("TEXTING_"), setting.name)
            XCTAssertFalse(Set(setting.readers).intersection(programs).isEmpty, "\(setting.name) is read by no program")
            XCTAssertFalse(setting.meaning.contains("|"), "\(setting.name): a | would break the README's table")
        }
    }

    func testEachProgramsHelpListsExactlyTheSettingsDeclaredAsReadByIt() {
        for program in [ProgramCatalog.messagesFCGI, ProgramCatalog.deliveryFCGI, ProgramCatalog.senderCron, ProgramCatalog.textingctl] {
            XCTAssertEqual(program.settings.map(\.name), ServiceSettings.all.filter { $0.readers.contains(program.name) }.map(\.name), program.name)
        }
        XCTAssertTrue(ProgramCatalog.messagesFCGI.settings.contains(FastCGISettings.socket.description))
        XCTAssertFalse(ProgramCatalog.senderCron.settings.contains(FastCGISettings.socket.description))
    }

    func testTheExampleFileLeavesRequiredSettingsToEditAndCommentsOutTheRest() {
        let lines = ServiceSettings.exampleFile.split(separator: "\n").map(String.init)
        for setting in ServiceSettings.all {
            let assignment = lines.filter { $0.hasPrefix(setting.name + "=") || $0.hasPrefix("#" + setting.name + "=") }
            XCTAssertEqual(assignment.count, 1, setting.name)
            XCTAssertEqual(assignment.first?.hasPrefix("#"), !setting.isRequired, setting.name)
        }
        XCTAssertTrue(lines.contains("TEXTING_CALLBACK_SECRET="), "the secret is left empty for the operator")
    }
}
