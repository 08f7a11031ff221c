import TextingSupport
import XCTest

import TextingFastCGI

final class FastCGISettingsTests: XCTestCase {
    func testFastCGISocketIsOptional() {
        XCTAssertNil(FastCGISettings.socketPath(EnvironmentReader([:])))
        XCTAssertEqual(FastCGISettings.socketPath(EnvironmentReader(["TEXTING_FCGI_SOCKET": "/run/texting/messages.sock"])), "/run/texting/messages.sock")
    }
}
