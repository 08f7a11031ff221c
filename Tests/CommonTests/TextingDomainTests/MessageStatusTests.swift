import TextingDomain
import XCTest

final class MessageStatusTests: XCTestCase {
    private let allowed: Set<String> = [
        "queued→sending", "queued→failed", "queued→canceled",
        "sending→sent", "sending→delivered", "sending→failed", "sending→invalid",
        "sent→delivered", "sent→failed", "sent→invalid",
    ]

    func testTransitionTableIsExactlyTheAllowedMoves() {
        for from in MessageStatus.allCases {
            for to in MessageStatus.allCases {
                let move = "\(from.rawValue)→\(to.rawValue)"
                XCTAssertEqual(from.canTransition(to: to), allowed.contains(move), move)
            }
        }
    }

    func testTerminalStatusesGoNowhere() {
        XCTAssertEqual(MessageStatus.allCases.filter(\.isTerminal), [.delivered, .failed, .invalid, .canceled])
        for status in MessageStatus.allCases where status.isTerminal {
            XCTAssertTrue(MessageStatus.allCases.allSatisfy { !status.canTransition(to: $0) }, "\(status)")
        }
    }

    func testNoStatusTransitionsToItself() {
        for status in MessageStatus.allCases {
            XCTAssertFalse(status.canTransition(to: status), "\(status)")
        }
    }

    func testCallbackMayOvertakeSentUpdate() {
        XCTAssertTrue(MessageStatus.sending.canTransition(to: .delivered))
        XCTAssertFalse(MessageStatus.delivered.canTransition(to: .sent))
    }

    func testQueuedMessageCannotBeDeliveredWithoutBeingSent() {
        XCTAssertFalse(MessageStatus.queued.canTransition(to: .delivered))
        XCTAssertFalse(MessageStatus.queued.canTransition(to: .sent))
    }

    func testPredecessorsAreInDeclarationOrder() {
        XCTAssertEqual(MessageStatus.predecessors(of: .delivered), [.sending, .sent])
        XCTAssertEqual(MessageStatus.predecessors(of: .failed), [.queued, .sending, .sent])
        XCTAssertEqual(MessageStatus.predecessors(of: .canceled), [.queued])
        XCTAssertEqual(MessageStatus.predecessors(of: .sending), [.queued])
        XCTAssertEqual(MessageStatus.predecessors(of: .queued), [])
    }

    func testRawValuesAreDatabaseSpellings() {
        XCTAssertEqual(
            MessageStatus.allCases.map(\.rawValue),
            ["queued", "sending", "sent", "delivered", "failed", "invalid", "canceled"])
        XCTAssertNil(MessageStatus(rawValue: "cancelled"))
    }

    func testDeliveryReportMapsToItsFinalStatus() {
        XCTAssertEqual(DeliveryReport.allCases.map(\.messageStatus), [.delivered, .failed, .invalid])
        for report in DeliveryReport.allCases {
            XCTAssertTrue(report.messageStatus.isTerminal, "\(report)")
            XCTAssertTrue(MessageStatus.sent.canTransition(to: report.messageStatus), "\(report)")
        }
        XCTAssertNil(DeliveryReport(rawValue: "sent"))
    }
}
