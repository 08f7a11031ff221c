import TextingFastCGI
import XCTest

final class FastCGIRecordScreenTests: XCTestCase {
    private func record(_ type: UInt8, id: Int = 1, _ content: [UInt8], padding: Int = 0, version: UInt8 = 1) -> [UInt8] {
        [version, type, UInt8(id >> 8), UInt8(id & 0xFF), UInt8(content.count >> 8), UInt8(content.count & 0xFF), UInt8(padding), 0]
            + content + [UInt8](repeating: 0, count: padding)
    }

    private func begin(id: Int = 1, role: UInt8 = 1, padding: Int = 0) -> [UInt8] { record(1, id: id, [0, role, 0, 0, 0, 0, 0, 0], padding: padding) }

    private func pair(_ name: String, _ value: String) -> [UInt8] {
        [UInt8(name.utf8.count), UInt8(value.utf8.count)] + Array(name.utf8) + Array(value.utf8)
    }

    private var nginxLike: [UInt8] {
        begin() + record(4, pair("REQUEST_METHOD", "GET") + pair("DOCUMENT_URI", "/healthz"), padding: 5) + record(4, []) + record(5, [])
    }

    func testWhatNginxSendsIsComplete() {
        XCTAssertEqual(FastCGIRecordScreen.screen(nginxLike), .complete)
    }

    func testEveryPrefixAsksForMoreAndNeverRefuses() {
        let bytes = nginxLike
        let end = bytes.count - 8  // the empty STDIN record is not needed
        for length in 0..<(end - 8) {
            guard case .needMore(let needed) = FastCGIRecordScreen.screen(Array(bytes.prefix(length))) else {
                return XCTFail("prefix \(length): \(FastCGIRecordScreen.screen(Array(bytes.prefix(length))))")
            }
            XCTAssertGreaterThan(needed, length)
        }
    }

    func testPairSplitAcrossRecordsIsComplete() {
        let stream = pair("REQUEST_METHOD", "GET")
        XCTAssertEqual(
            FastCGIRecordScreen.screen(begin() + record(4, Array(stream.prefix(5))) + record(4, Array(stream.dropFirst(5))) + record(4, [])), .complete)
    }

    func testFourByteLengthsWhoseSumOverflowsAnIntAreRefused() {
        // What aborted libfcgi: 0x5100ff11 + 0x469420b3 overflows its int.
        let stream: [UInt8] = [0xD1, 0x00, 0xFF, 0x11, 0xC6, 0x94, 0x20, 0xB3, 0x41]
        XCTAssertEqual(
            FastCGIRecordScreen.screen(begin() + record(4, stream) + record(4, [])),
            .refused("a parameter's length reaches past the end of the parameters"))
    }

    func testLengthsPastTheStreamOrCutShortAreRefused() {
        for stream: [UInt8] in [[5, 1, 0x41], [0x80, 0, 0], [3], [0x81, 0, 0, 0, 1, 0x41]] {
            guard case .refused = FastCGIRecordScreen.screen(begin() + record(4, stream) + record(4, [])) else {
                return XCTFail("\(stream) not refused")
            }
        }
    }

    func testFourByteFormForShortLengthsIsComplete() {
        let stream: [UInt8] = [0x80, 0, 0, 1, 0x80, 0, 0, 1, 0x41, 0x42]
        XCTAssertEqual(FastCGIRecordScreen.screen(begin() + record(4, stream) + record(4, [])), .complete)
    }

    func testAnythingButTheNginxShapeIsRefused() {
        let params = record(4, pair("A", "b")) + record(4, [])
        let cases: [[UInt8]] = [
            record(1, [0, 1, 0, 0, 0, 0, 0, 0], version: 2) + params,  // wrong version
            begin(id: 0) + record(4, id: 0, pair("A", "b")) + record(4, id: 0, []),  // management id
            begin(role: 2) + params,  // AUTHORIZER
            record(9, id: 0, []) + begin() + params,  // GET_VALUES first
            record(4, pair("A", "b")) + begin() + params,  // params before begin
            begin() + record(5, []) + params,  // stdin before the params end
            begin() + record(4, id: 2, pair("A", "b")) + params,  // another id
            begin() + record(200, []) + params,  // unknown type
            record(1, [0, 1, 0]) + params,  // short begin body
        ]
        for (index, bytes) in cases.enumerated() {
            guard case .refused = FastCGIRecordScreen.screen(bytes) else { return XCTFail("case \(index) not refused") }
        }
    }

    func testParametersOverTheLimitAreRefusedBeforeAllArrive() {
        var bytes = begin()
        while bytes.count < FastCGIRecordScreen.maximumBytes { bytes += record(4, [UInt8](repeating: 0, count: 0xFFFF)) }
        guard case .refused = FastCGIRecordScreen.screen(bytes) else { return XCTFail("not refused") }
    }
}
