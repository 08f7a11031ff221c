import TextingSupport
import XCTest

final class HTMLTextTests: XCTestCase {
    func testMarkupInHostileTextIsShownNotRun() {
        XCTAssertEqual(HTMLText.escape("<script>alert(1)</script>"), "&lt;script&gt;alert(1)&lt;/script&gt;")
        XCTAssertEqual(HTMLText.escape("\" onmouseover='x' a=\"&amp;"), "&quot; onmouseover=&#39;x&#39; a=&quot;&amp;amp;")
        XCTAssertEqual(HTMLText.escape("</textarea><img src=x>"), "&lt;/textarea&gt;&lt;img src=x&gt;")
    }

    func testUnicodeStaysAndControlCharactersGo() {
        XCTAssertEqual(HTMLText.escape("Grüße 😀 €"), "Grüße 😀 €")
        XCTAssertEqual(HTMLText.escape("a\tb\nc"), "a\tb\nc")
        XCTAssertEqual(HTMLText.escape("a\u{0}b\u{1B}c\u{85}"), "a\u{FFFD}b\u{FFFD}c\u{FFFD}")
    }

    func testQueryValuesArePercentEncoded() {
        XCTAssertEqual(HTMLText.queryValue("provider_rejected"), "provider_rejected")
        XCTAssertEqual(HTMLText.queryValue("a b&c=d/é"), "a%20b%26c%3Dd%2F%C3%A9")
        XCTAssertEqual(HTMLText.queryValue("\"><script>"), "%22%3E%3Cscript%3E")
    }
}
