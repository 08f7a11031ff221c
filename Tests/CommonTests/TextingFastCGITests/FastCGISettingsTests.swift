import TextingFastCGI
import TextingSupport
import XCTest

final class FastCGISettingsTests: XCTestCase {
    func testFastCGISocketIsOptional() throws {
        XCTAssertNil(try FastCGISettings.socket.read(EnvironmentReader([:])))
        XCTAssertEqual(try FastCGISettings.socket.read(EnvironmentReader(["TEXTING_FCGI_SOCKET": "/run/texting/messages.sock"])), "/run/texting/messages.sock")
    }
}

final class FastCGIListenerSettingsTests: XCTestCase {
    private func listener(_ values: [String: String]) throws -> FastCGIListener {
        try FastCGISettings.listener(EnvironmentReader(values))
    }

    private func problem(_ values: [String: String]) -> ConfigurationError? {
        do {
            _ = try listener(values)
            return nil
        } catch {
            return error as? ConfigurationError
        }
    }

    func testASocketOrStandardInputByDefault() throws {
        XCTAssertEqual(try listener([:]).source, .standardInput)
        XCTAssertEqual(try listener(["TEXTING_FCGI_SOCKET": "/run/texting/messages.sock"]).source, .unixSocket(path: "/run/texting/messages.sock"))
    }

    func testATCPAddressServesThePeersListed() throws {
        let tcp = try listener(["TEXTING_FCGI_LISTEN": "10.0.0.11:9001", "TEXTING_FCGI_PEERS": " 10.0.0.5 ,10.0.0.6,::ffff:10.0.0.7"])
        XCTAssertEqual(tcp.source, .tcp(try XCTUnwrap(FastCGIAddress("10.0.0.11:9001"))))
        XCTAssertEqual(tcp.peers, Set(["10.0.0.5", "10.0.0.6", "10.0.0.7"].compactMap(IPAddress.init)))
        let v6 = try listener(["TEXTING_FCGI_LISTEN": "[fd00::11]:9001", "TEXTING_FCGI_PEERS": "fd00::5"])
        XCTAssertEqual(v6.label, "[fd00:0:0:0:0:0:0:11]:9001 (peers: fd00:0:0:0:0:0:0:5)")
    }

    func testEachWrongCombinationNamesItsSetting() {
        XCTAssertEqual(problem(["TEXTING_FCGI_LISTEN": "10.0.0.11:9001"])?.setting, "TEXTING_FCGI_PEERS")
        XCTAssertEqual(
            problem(["TEXTING_FCGI_LISTEN": "10.0.0.11:9001", "TEXTING_FCGI_PEERS": "10.0.0.5", "TEXTING_FCGI_SOCKET": "/run/x.sock"])?.setting,
            "TEXTING_FCGI_LISTEN")
        for bad in [
            "10.0.0.11", "10.0.0.11:", "10.0.0.11:0", "10.0.0.11:65536", "10.0.0.11:+80", "host:9001", "fd00::11:9001", "[10.0.0.11]:9001",
            "010.0.0.11:9001", " 10.0.0.11:9001", "[fd00::11%eth0]:9001",
        ] {
            XCTAssertEqual(problem(["TEXTING_FCGI_LISTEN": bad, "TEXTING_FCGI_PEERS": "10.0.0.5"])?.setting, "TEXTING_FCGI_LISTEN", bad)
        }
        for bad in ["nginx", "10.0.0.5/24", "10.0.0.5;10.0.0.6", "10.0.0.256"] {
            XCTAssertEqual(problem(["TEXTING_FCGI_LISTEN": "10.0.0.11:9001", "TEXTING_FCGI_PEERS": bad])?.setting, "TEXTING_FCGI_PEERS", bad)
        }
    }
}
