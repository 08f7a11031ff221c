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
