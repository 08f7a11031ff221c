import TextingSupport
import XCTest

final class NetworkDestinationRulesTests: XCTestCase {
    let strict = NetworkDestinationRules()
    let development = NetworkDestinationRules(allowLoopback: true, allowPrivate: true)

    private func v4(_ text: String) -> [UInt8] { text.split(separator: ".").map { UInt8($0)! } }

    func testPublicAddressesAreAllowed() {
        for address in ["8.8.8.8", "1.1.1.1", "172.15.255.255", "172.32.0.0", "100.63.255.255", "100.128.0.0", "169.253.255.255", "223.255.255.255"] {
            XCTAssertNil(strict.refusal(ipv4: v4(address)), address)
        }
        XCTAssertNil(strict.refusal(host: "2606:4700::1111"))
        XCTAssertNil(strict.refusal(host: "hooks.example.com"))
    }

    func testPrivateAndLoopbackAreRefusedUnlessAllowed() {
        for address in ["127.0.0.1", "127.255.255.254", "10.0.0.1", "172.16.0.0", "172.31.255.255", "192.168.1.1", "100.64.0.1"] {
            XCTAssertNotNil(strict.refusal(ipv4: v4(address)), address)
            XCTAssertNil(development.refusal(ipv4: v4(address)), address)
        }
        XCTAssertEqual(strict.refusal(ipv4: v4("127.0.0.1")), "loopback address 127.0.0.1")
        XCTAssertTrue(strict.refusal(ipv4: v4("10.1.2.3"))?.hasPrefix("private address") == true)
        for host in ["::1", "[::1]", "fd00:ec2::254", "fc00::1", "localhost", "LOCALHOST.", "api.localhost"] {
            XCTAssertNotNil(strict.refusal(host: host), host)
            XCTAssertNil(development.refusal(host: host), host)
        }
    }

    func testLocalOnlyAllowsThisMachineAndNothingThatNeedsTheNetwork() {
        let local = NetworkDestinationRules.localOnly
        for host in ["127.0.0.1", "127.0.0.53", "::1", "[::1]", "localhost", "LOCALHOST."] {
            XCTAssertNil(local.refusal(host: host), host)
        }
        XCTAssertEqual(local.refusal(ipv4: v4("8.8.8.8")), "public address 8.8.8.8 (only this machine's addresses are allowed here)")
        XCTAssertNotNil(local.refusal(ipv4: v4("10.0.0.1")))
        XCTAssertNotNil(local.refusal(host: "2606:4700::1111"))
        XCTAssertNotNil(local.refusal(host: "::ffff:8.8.8.8"))
        // A name would need a DNS query (only `localhost` is in /etc/hosts).
        for host in ["hooks.example.com", "api.localhost", "example"] {
            XCTAssertTrue(local.refusal(host: host)?.hasPrefix(host == "api.localhost" ? "loopback host name" : "host name") == true, host)
        }
        XCTAssertNil(NetworkDestinationRules.privateToo.refusal(host: "api.localhost"))
        XCTAssertEqual(NetworkDestinationRules.publicOnly, strict)
    }

    func testLinkLocalMetadataMulticastAndReservedAreAlwaysRefused() {
        for address in [
            "169.254.169.254", "169.254.0.1", "0.0.0.0", "0.1.2.3", "224.0.0.1", "239.255.255.250", "240.0.0.1", "255.255.255.255",
            "192.0.0.1", "198.18.0.1", "192.0.2.1", "198.51.100.1", "203.0.113.1",
        ] {
            XCTAssertNotNil(development.refusal(ipv4: v4(address)), address)
        }
        for host in ["fe80::1", "ff02::1", "::", "2001:db8::1", "100::1"] {
            XCTAssertNotNil(development.refusal(host: host), host)
        }
    }

    func testIPv6ThatEmbedsIPv4IsJudgedByIt() {
        for host in ["::ffff:127.0.0.1", "::ffff:7f00:1", "64:ff9b::a9fe:a9fe", "2002:a9fe:a9fe::", "::ffff:169.254.169.254"] {
            XCTAssertNotNil(strict.refusal(host: host), host)
        }
        XCTAssertTrue(development.refusal(host: "::ffff:169.254.169.254")?.contains("link-local") == true)
        XCTAssertNil(strict.refusal(host: "::ffff:8.8.8.8"))
    }

    func testNumericHostsResolversReadAsIPv4AreRefused() {
        for host in ["2130706433", "0x7f.1", "127.1", "0177.0.0.1", "017700000001"] {
            XCTAssertNotNil(strict.refusal(host: host), host)
        }
        XCTAssertNil(strict.refusal(host: "cafe.example"))
        XCTAssertNil(strict.refusal(host: "1password.example.com"))
    }

    func testMalformedIPv6AndZoneIdsAreRefused() {
        for host in ["fe80::1%eth0", "1::2::3", "12345::1", "::g"] {
            XCTAssertNotNil(development.refusal(host: host), host)
        }
    }
}
