import FoundationEssentials
import TextingStore
import XCTest

final class MigratorTests: XCTestCase {
    private var directories: [String] = []

    override func tearDown() {
        for directory in directories { try? FileManager.default.removeItem(atPath: directory) }
        directories = []
        super.tearDown()
    }

    /// A fresh folder under /tmp holding `files` (name → contents).
    private func folder(_ files: [String: String]) throws -> String {
        var template = Array("/tmp/migrator-tests-XXXXXX".utf8CString)
        let path = try template.withUnsafeMutableBufferPointer { buffer -> String in
            guard let result = mkdtemp(buffer.baseAddress!) else { throw POSIXError(.EIO) }
            return String(cString: result)
        }
        directories.append(path)
        for (name, contents) in files {
            XCTAssertTrue(FileManager.default.createFile(atPath: path + "/" + name, contents: Data(contents.utf8)), name)
        }
        return path
    }

    private func assertRejected(_ directory: String, mentioning words: [String], file: StaticString = #filePath, line: UInt = #line) {
        do {
            let migrations = try Migrator.load(directory: directory)
            XCTFail("accepted \(migrations.map(\.name))", file: file, line: line)
        } catch {
            XCTAssertEqual(error.setting, "TEXTING_MIGRATIONS_DIR", file: file, line: line)
            for word in words {
                XCTAssertTrue(error.problem.contains(word), "\(error.problem) should mention \(word)", file: file, line: line)
            }
        }
    }

    func testLoadsSQLFilesSortedByVersionAndIgnoresOthers() throws {
        let directory = try folder([
            "0002_b.sql": "ALTER TABLE a ADD COLUMN b int;",
            "0001_a.sql": "CREATE TABLE a (id int);",
            "README.txt": "not a migration",
        ])
        let migrations = try Migrator.load(directory: directory)
        XCTAssertEqual(migrations.map(\.version), [1, 2])
        XCTAssertEqual(migrations.map(\.name), ["0001_a.sql", "0002_b.sql"])
        XCTAssertEqual(migrations.first?.sql, "CREATE TABLE a (id int);")
    }

    func testVersionsSortNumericallyNotAlphabetically() throws {
        let directory = try folder(["10_ten.sql": "", "9_nine.sql": "", "0100_hundred.sql": ""])
        XCTAssertEqual(try Migrator.load(directory: directory).map(\.version), [9, 10, 100])
    }

    func testSQLTextIsReadExactlyIncludingUnicode() throws {
        let sql = "-- ünïcödé comment\nINSERT INTO t VALUES ('😀');\n"
        let directory = try folder(["0001_unicode.sql": sql])
        XCTAssertEqual(try Migrator.load(directory: directory).first?.sql, sql)
    }

    func testEmptyFolderGivesNoMigrations() throws {
        XCTAssertEqual(try Migrator.load(directory: try folder([:])), [])
    }

    func testFileWithoutLeadingNumberIsRejected() throws {
        assertRejected(try folder(["0001_a.sql": "", "abc.sql": ""]), mentioning: ["abc.sql"])
    }

    func testTwoFilesWithTheSameNumberAreRejected() throws {
        assertRejected(
            try folder(["0003_add_index.sql": "", "0003_add_column.sql": "", "0001_a.sql": ""]),
            mentioning: ["0003_add_index.sql", "0003_add_column.sql"])
    }

    func testSameNumberWrittenDifferentlyIsADuplicate() throws {
        assertRejected(try folder(["3_a.sql": "", "0003_b.sql": ""]), mentioning: ["3"])
    }

    func testNonUTF8FileIsRejected() throws {
        let directory = try folder([:])
        XCTAssertTrue(FileManager.default.createFile(atPath: directory + "/0001_bad.sql", contents: Data([0x53, 0xFF, 0xFE])))
        assertRejected(directory, mentioning: ["0001_bad.sql"])
    }

    func testMissingFolderIsRejected() throws {
        let directory = try folder([:]) + "/does-not-exist"
        assertRejected(directory, mentioning: [directory])
    }

    func testRepositoryMigrationsStartAtOneAndStrictlyIncrease() throws {
        // Tests/CommonTests/TextingStoreTests/MigratorTests.swift → the repository's migrations/.
        var repository = URL(fileURLWithPath: #filePath)
        for _ in 0..<4 { repository = repository.deletingLastPathComponent() }
        let migrationsDirectory = repository.appendingPathComponent("migrations").path
        let migrations = try Migrator.load(directory: migrationsDirectory)
        XCTAssertFalse(migrations.isEmpty, migrationsDirectory)
        XCTAssertEqual(migrations.first?.version, 1)
        for (a, b) in zip(migrations, migrations.dropFirst()) {
            XCTAssertLessThan(a.version, b.version, "\(a.name) then \(b.name)")
        }
        for migration in migrations {
            XCTAssertFalse(migration.sql.trimmed.isEmpty, migration.name)
        }
    }
}
