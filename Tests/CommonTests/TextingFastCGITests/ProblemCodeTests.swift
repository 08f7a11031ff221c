import TextingFastCGI
import XCTest

final class ProblemCodeTests: XCTestCase {
    func testEveryCodeHasAnErrorStatusAndATitle() {
        for code in ProblemCode.allCases {
            XCTAssertTrue((400...599).contains(code.status), "\(code.rawValue): \(code.status)")
            XCTAssertFalse(code.title.trimmed.isEmpty, code.rawValue)
        }
    }

    func testCodesAreUniqueSnakeCase() {
        let raw = ProblemCode.allCases.map(\.rawValue)
        XCTAssertEqual(Set(raw).count, raw.count)
        for value in raw {
            XCTAssertFalse(value.isEmpty)
            XCTAssertTrue(value.allSatisfy { ("a"..."z").contains($0) || $0 == "_" }, value)
            XCTAssertFalse(value.hasPrefix("_") || value.hasSuffix("_") || value.contains("__"), value)
        }
    }

    func testTitlesAreUnique() {
        let titles = ProblemCode.allCases.map(\.title)
        XCTAssertEqual(Set(titles).count, titles.count)
    }

    func testStableCodesKeepTheirStatuses() {
        XCTAssertEqual(ProblemCode.malformedJSON.status, 400)
        XCTAssertEqual(ProblemCode.unauthorized.status, 401)
        XCTAssertEqual(ProblemCode.invalidSignature.status, 401)
        XCTAssertEqual(ProblemCode.notFound.status, 404)
        XCTAssertEqual(ProblemCode.payloadTooLarge.status, 413)
        XCTAssertEqual(ProblemCode.unsupportedMediaType.status, 415)
        XCTAssertEqual(ProblemCode.wrongType.status, 422)
        XCTAssertEqual(ProblemCode.rateLimited.status, 429)
        XCTAssertEqual(ProblemCode.internalError.status, 500)
        XCTAssertEqual(ProblemCode(rawValue: "phone_number_inactive"), .phoneNumberInactive)
    }

    func testEveryStatusHasAReasonPhrase() {
        for code in ProblemCode.allCases {
            XCTAssertNotEqual(HTTPServerResponse.reasonPhrase(code.status), "Status", "\(code.rawValue) → \(code.status)")
        }
    }
}
