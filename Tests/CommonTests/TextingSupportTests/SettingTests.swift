import TextingSupport
import XCTest

final class SettingTests: XCTestCase {
    private let number = Setting<Int>.integer("N", "a number", default: 7, range: 1...100, readBy: ["P"])

    private func assertRejected<Value>(
        _ setting: Setting<Value>, _ text: String, mentioning words: [String] = [],
        file: StaticString = #filePath, line: UInt = #line
    ) {
        XCTAssertThrowsError(try setting.read(EnvironmentReader([setting.name: text])), text, file: file, line: line) { error in
            let error = error as? ConfigurationError
            XCTAssertEqual(error?.setting, setting.name, file: file, line: line)
            for word in words { XCTAssertTrue(error?.problem.contains(word) ?? false, "\(word): \(String(describing: error))", file: file, line: line) }
        }
    }

    func testIntegerInRangeIsReadAndTrimmedAndEmptyIsTheDefault() throws {
        XCTAssertEqual(try number.read(EnvironmentReader(["N": " 42\t"])), 42)
        XCTAssertEqual(try number.read(EnvironmentReader([:])), 7)
        XCTAssertEqual(try number.read(EnvironmentReader(["N": ""])), 7)
        XCTAssertEqual(try number.read(EnvironmentReader(["N": "100"])), 100)
    }

    func testIntegerOutOfRangeOrMalformedNamesTheVariableAndQuotesTheValue() {
        for bad in ["0", "101", "1e2", "0x10", "12abc", "99999999999999999999"] {
            assertRejected(number, bad, mentioning: [bad, "1 to 100"])
        }
    }

    func testTheRangeIsPartOfTheMeaningAndTheDefaultIsShown() {
        XCTAssertEqual(number.description.meaning, "a number (1-100)")
        XCTAssertEqual(number.description.defaultText, "7")
        XCTAssertEqual(number.description.readers, ["P"])
        XCTAssertFalse(number.description.isRequired)
    }

    func testRequiredErrorGivesAnExample() {
        let url = Setting<String>.required("TEXTING_DATABASE_URL", "the database", example: "postgresql:///texting", readBy: [])
        XCTAssertEqual(try url.read(EnvironmentReader(["TEXTING_DATABASE_URL": "x"])), "x")
        XCTAssertThrowsError(try url.read(EnvironmentReader([:]))) { error in
            XCTAssertEqual(
                (error as? ConfigurationError)?.description,
                "configuration error: TEXTING_DATABASE_URL: is not set; e.g. TEXTING_DATABASE_URL=postgresql:///texting")
        }
        XCTAssertTrue(url.description.isRequired)
        XCTAssertEqual(url.description.defaultText, "required")
        XCTAssertEqual(url.description.exampleValue, "postgresql:///texting")
    }

    func testARequiredSecretCanShowAnEmptyPlaceholder() {
        let secret = Setting<String>.required("S", "a secret", example: "$(openssl rand -hex 32)", placeholder: "", readBy: [])
        XCTAssertEqual(secret.description.exampleValue, "")
    }

    func testOnOffTakesTheUsualSpellingsAndNothingElse() throws {
        let flag = Setting<Bool>.onOff("F", "a switch", default: true, readBy: [])
        XCTAssertTrue(try flag.read(EnvironmentReader([:])))
        for off in ["off", "OFF", "false", "0", "no"] { XCTAssertFalse(try flag.read(EnvironmentReader(["F": off])), off) }
        for on in ["on", "True", "1", "yes"] { XCTAssertTrue(try flag.read(EnvironmentReader(["F": on])), on) }
        assertRejected(flag, "maybe", mentioning: ["on or off", "maybe"])
        XCTAssertEqual(flag.description.defaultText, "on")
    }

    func testAnOptionalSettingIsNilWhenUnset() throws {
        let socket = Setting<String?>.optional("S", "a socket", example: "/run/x.sock", readBy: [])
        XCTAssertNil(try socket.read(EnvironmentReader([:])))
        XCTAssertEqual(try socket.read(EnvironmentReader(["S": "/tmp/a"])), "/tmp/a")
        XCTAssertEqual(socket.description.defaultText, "unset")
        XCTAssertEqual(socket.description.exampleValue, "/run/x.sock")
    }

    func testADerivedDefaultLeavesTheValueToTheReader() throws {
        let lease = Setting<Int?>.integer("L", "a lease", derived: "twice the timeout", example: "40", range: 1...10, readBy: [])
        XCTAssertNil(try lease.read(EnvironmentReader([:])))
        XCTAssertEqual(try lease.read(EnvironmentReader(["L": "3"])), 3)
        assertRejected(lease, "11", mentioning: ["1 to 10"])
        XCTAssertEqual(lease.description.defaultText, "twice the timeout")
    }

    func testACheckedSettingAppliesItsRuleAndNamesTheVariable() throws {
        let even = number.checked { value, invalid throws(ConfigurationError) in
            guard value % 2 == 0 else { throw invalid("must be even; got \(value)") }
            return value / 2
        }
        XCTAssertEqual(try even.read(EnvironmentReader(["N": "42"])), 21)
        assertRejected(even, "41", mentioning: ["must be even"])
        assertRejected(even, "500", mentioning: ["1 to 100"])
        XCTAssertEqual(even.description, number.description)
    }
}
