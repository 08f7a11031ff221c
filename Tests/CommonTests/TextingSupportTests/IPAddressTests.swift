import TextingSupport
import XCTest

final class IPAddressTests: XCTestCase {
    func testLiteralsOfBothFamilies() {
        XCTAssertEqual(IPAddress("192.0.2.1")?.bytes, [192, 0, 2, 1])
        XCTAssertEqual(IPAddress("[2001:db8::1]")?.bytes, [0x20, 0x01, 0x0d, 0xb8] + [UInt8](repeating: 0, count: 11) + [1])
        XCTAssertEqual(IPAddress("2001:db8::1")?.description, "2001:db8:0:0:0:0:0:1")
        XCTAssertEqual(IPAddress("192.0.2.1")?.description, "192.0.2.1")
    }

    func testAnIPv4MappedAddressIsItsIPv4Address() {
        XCTAssertEqual(IPAddress("::ffff:192.0.2.1"), IPAddress("192.0.2.1"))
        XCTAssertEqual(IPAddress(bytes: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF, 127, 0, 0, 1]), IPAddress("127.0.0.1"))
        XCTAssertNotEqual(IPAddress("::1"), IPAddress("127.0.0.1"))
    }

    func testNamesAndMalformedTextAreNotAddresses() {
        for bad in [
            "", "localhost", "192.0.2", "192.0.2.1.5", "192.0.2.256", "01.2.3.4", " 192.0.2.1", "2001:db8::1::2", "fe80::1%eth0", "[192.0.2.1", "1.2.3.4/8",
        ] {
            XCTAssertNil(IPAddress(bad), bad)
        }
        XCTAssertNil(IPAddress(bytes: [1, 2, 3]))
    }
}
