import TextingSupport
import XCTest

final class RandomUUIDTests: XCTestCase {
    func testUUIDsAreVersion4WithTheRFCVariantAndAllDifferent() {
        let ids = RandomUUID.make(1000)
        XCTAssertEqual(ids.count, 1000)
        XCTAssertEqual(Set(ids).count, 1000)
        for id in ids {
            let text = id.uuidString.lowercased()
            let characters = Array(text)
            XCTAssertEqual(characters[14], "4", text)
            XCTAssertTrue("89ab".contains(characters[19]), text)
        }
    }

    func testNoneAskedNoneMade() {
        XCTAssertEqual(RandomUUID.make(0), [])
    }
}

final class TimeOrderedUUIDTests: XCTestCase {
    func testVersion7CarriesTheMillisecondsAndTheRFCVariant() {
        let milliseconds: Int64 = 1_796_400_000_123
        let ids = RandomUUID.makeTimeOrdered(100, milliseconds: milliseconds)
        XCTAssertEqual(Set(ids).count, 100)
        for id in ids {
            let text = id.uuidString.lowercased()
            XCTAssertEqual(Array(text)[14], "7", text)
            XCTAssertTrue("89ab".contains(Array(text)[19]), text)
            XCTAssertEqual(RandomUUID.milliseconds(of: id), milliseconds)
        }
        // 1796400000123 = 0x01A2_41C8_AC7B: the first 12 hex digits.
        XCTAssertTrue(ids[0].uuidString.lowercased().hasPrefix("01a241c8-ac7b-7"), ids[0].uuidString)
    }

    func testABatchSortsInOrderAndALaterBatchAfterIt() {
        let first = RandomUUID.makeTimeOrdered(50, milliseconds: 1_796_400_000_000).map { $0.uuidString.lowercased() }
        let later = RandomUUID.makeTimeOrdered(50, milliseconds: 1_796_400_000_001).map { $0.uuidString.lowercased() }
        XCTAssertEqual(first, first.sorted())
        XCTAssertLessThan(first.last!, later.first!)
    }

    func testARandomIDNamesNoTime() {
        XCTAssertNil(RandomUUID.milliseconds(of: RandomUUID.make(1)[0]))
    }
}
