import TextingFastCGI
import TextingSupport
import XCTest

final class FastCGISettingsTests: XCTestCase {
    func testFastCGISocketIsOptional() throws {
        XCTAssertNil(try FastCGISettings.socket.read(EnvironmentReader([:])))
        XCTAssertEqual(try FastCGISettings.socket.read(EnvironmentReader(["TEXTING_FCGI_SOCKET": "/run/texting/messages.sock"])), "/run/texting/messages.sock")
    }
}
