import TextingDomain
import XCTest

final class ProviderConfigTests: XCTestCase {
    @discardableResult
    private func assertRejected(
        _ text: String, mentioning fragment: String,
        file: StaticString = #filePath, line: UInt = #line
    ) -> String {
        do {
            let providers = try ProviderConfig.parseList(text)
            XCTFail("accepted \(providers)", file: file, line: line)
        } catch {
            XCTAssertEqual(error.setting, "TEXTING_PROVIDERS", file: file, line: line)
            XCTAssertTrue(error.problem.contains(fragment), error.problem, file: file, line: line)
            XCTAssertTrue(
                error.problem.contains("`p1=http://127.0.0.1:9101/send;weight=30,"),
                "problem should show the expected format", file: file, line: line)
            return error.problem
        }
        return ""
    }

    func testParsesDocumentedExample() throws {
        let providers = try ProviderConfig.parseList(
            "p1=http://127.0.0.1:9101/send;weight=30,p2=http://127.0.0.1:9102/send;weight=70")
        XCTAssertEqual(
            providers,
            [
                ProviderConfig(name: "p1", url: "http://127.0.0.1:9101/send", weight: 30),
                ProviderConfig(name: "p2", url: "http://127.0.0.1:9102/send", weight: 70),
            ])
    }

    func testWeightDefaultsToOneAndWhitespaceIsTrimmed() throws {
        let providers = try ProviderConfig.parseList(" twilio-eu = https://api.example.com:8443/v1/send?x=1 ,\n p_2=http://localhost;weight=1000 ")
        XCTAssertEqual(
            providers,
            [
                ProviderConfig(name: "twilio-eu", url: "https://api.example.com:8443/v1/send?x=1", weight: 1),
                ProviderConfig(name: "p_2", url: "http://localhost", weight: 1000),
            ])
    }

    func testAcceptsIPv6HostAndUserInfo() throws {
        XCTAssertEqual(try ProviderConfig.parseList("a=http://[::1]:9101/send,b=https://user:pw@sms.example/x").count, 2)
    }

    func testEmptyListIsRejected() {
        assertRejected("", mentioning: "no providers")
        assertRejected("  \n", mentioning: "no providers")
    }

    func testEmptyEntryIsRejected() {
        assertRejected("p1=http://a/send,", mentioning: "entry 2 is empty")
        assertRejected(",p1=http://a/send", mentioning: "entry 1 is empty")
    }

    func testEntryWithoutEqualsIsRejected() {
        assertRejected("p1=http://a/send,p2http://b/send", mentioning: "`p2http://b/send` has no `=`")
    }

    func testBadWeightsAreRejected() {
        assertRejected("p1=http://a/send;weight=0", mentioning: "weight `0`")
        assertRejected("p1=http://a/send;weight=abc", mentioning: "weight `abc`")
        assertRejected("p1=http://a/send;weight=1001", mentioning: "weight `1001`")
        assertRejected("p1=http://a/send;weight=-5", mentioning: "weight `-5`")
        assertRejected("p1=http://a/send;weight=", mentioning: "weight ``")
        assertRejected("p1=http://a/send;weight=99999999999999999999", mentioning: "weight")
        assertRejected("p1=http://a/send;weight=2;weight=3", mentioning: "more than once")
        assertRejected("p1=http://a/send;priority=2", mentioning: "unknown parameter `priority=2`")
    }

    func testARateIsMessagesPerSecondAndOptional() throws {
        let providers = try ProviderConfig.parseList("p1=http://a/send;tps=50;weight=3,p2=http://b/send;tps=0.5,p3=http://c/send")
        XCTAssertEqual(providers.map(\.tps), [50, 0.5, nil])
        XCTAssertEqual(providers[0].weight, 3)
    }

    func testBadRatesAreRejected() {
        assertRejected("p1=http://a/send;tps=0", mentioning: "tps `0`")
        assertRejected("p1=http://a/send;tps=-1", mentioning: "tps `-1`")
        assertRejected("p1=http://a/send;tps=100001", mentioning: "tps `100001`")
        assertRejected("p1=http://a/send;tps=fast", mentioning: "tps `fast`")
        assertRejected("p1=http://a/send;tps=1e3", mentioning: "tps `1e3`")
        assertRejected("p1=http://a/send;tps=", mentioning: "tps ``")
        assertRejected("p1=http://a/send;tps=5;tps=6", mentioning: "`tps` more than once")
    }

    func testDuplicateNameIsRejected() {
        assertRejected("p1=http://a/send,p1=http://b/send", mentioning: "repeats the provider name `p1`")
    }

    func testBadNamesAreRejected() {
        assertRejected("=http://a/send", mentioning: "name ``")
        assertRejected("my provider=http://a/send", mentioning: "name `my provider`")
        assertRejected("p.1=http://a/send", mentioning: "name `p.1`")
        assertRejected(String(repeating: "n", count: 33) + "=http://a/send", mentioning: "1 to 32")
        XCTAssertNoThrow(try ProviderConfig.parseList(String(repeating: "n", count: 32) + "=http://a/send"))
    }

    func testBadURLsAreRejected() {
        assertRejected("p1=ftp://a/send", mentioning: "URL `ftp://a/send`")
        assertRejected("p1=127.0.0.1:9101/send", mentioning: "URL `127.0.0.1:9101/send`")
        assertRejected("p1=http:///send", mentioning: "with a host")
        assertRejected("p1=http://:9101/send", mentioning: "with a host")
        assertRejected("p1=http://a:port/send", mentioning: "URL")
        assertRejected("p1=http://a:70000/send", mentioning: "URL")
        assertRejected("p1=http://a b/send", mentioning: "URL")
        assertRejected("p1=", mentioning: "URL ``")
    }

    func testPrefixesAndCostAreParsed() throws {
        let providers = try ProviderConfig.parseList(
            "us=http://a/send;prefixes=+1,+1876;cost=0.0075;weight=2,uk=http://b/send;prefixes=+44|+353 +354;tps=10,any=http://c/send")
        XCTAssertEqual(providers.map(\.name), ["us", "uk", "any"])
        XCTAssertEqual(providers.map(\.prefixes), [["+1", "+1876"], ["+44", "+353", "+354"], []])
        XCTAssertEqual(providers.map(\.cost), [0.0075, nil, nil])
        XCTAssertEqual(providers.map(\.weight), [2, 1, 1])
    }

    func testTheLongestMatchingPrefixIsReported() {
        let provider = ProviderConfig(name: "p", url: "http://a", weight: 1, prefixes: ["+1", "+1876"])
        XCTAssertEqual(provider.matchedPrefix(of: "+18765550100"), "+1876")
        XCTAssertEqual(provider.matchedPrefix(of: "+14155550100"), "+1")
        XCTAssertNil(provider.matchedPrefix(of: "+447700900123"))
        XCTAssertEqual(ProviderConfig(name: "p", url: "http://a", weight: 1).matchedPrefix(of: "+447700900123"), "")
    }

    func testBadPrefixesAndCostsAreRefusedWithTheirEntry() {
        assertRejected("p=http://a;prefixes=1", mentioning: "has the prefixes `1`")
        assertRejected("p=http://a;prefixes=+", mentioning: "has the prefix `+`")
        assertRejected("p=http://a;prefixes=+1234567890123456", mentioning: "has the prefix `+1234567890123456`")
        assertRejected("p=http://a;prefixes=+1a", mentioning: "has the prefixes `+1a`")
        assertRejected("p=http://a;prefixes=|", mentioning: "has no prefix")
        assertRejected("p=http://a;cost=-1", mentioning: "has the cost `-1`")
        assertRejected("p=http://a;cost=1001", mentioning: "has the cost `1001`")
        assertRejected("p=http://a;cost=0.1;cost=0.2", mentioning: "gives `cost` more than once")
        assertRejected("p=http://a;price=1", mentioning: "unknown parameter `price=1`")
        assertRejected("+1=http://a", mentioning: "has the name `+1`")
    }
}
