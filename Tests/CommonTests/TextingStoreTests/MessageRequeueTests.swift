import TextingDomain
import TextingStore
import XCTest

final class MessageRequeueTests: XCTestCase {
    func testOnlyAFailedMessageToAnActiveNumberWithinItsValidityIsRequeued() {
        XCTAssertNil(MessageRequeue.refusal(status: .failed, numberActive: true, expired: false))
        for status in MessageStatus.allCases where status != .failed {
            let reason = MessageRequeue.refusal(status: status, numberActive: true, expired: false)
            XCTAssertEqual(reason, "it is \(status.rawValue); only a failed message can be requeued")
        }
    }

    func testAnInactiveNumberIsNamedAsTheReasonWithTheWayOut() {
        let reason = MessageRequeue.refusal(status: .failed, numberActive: false, expired: false)
        XCTAssertTrue(reason?.contains("textingctl numbers reactivate") ?? false, reason ?? "")
    }

    func testAnExpiredMessageIsNotRequeued() {
        let reason = MessageRequeue.refusal(status: .failed, numberActive: true, expired: true)
        XCTAssertTrue(reason?.contains("validity period is over") ?? false, reason ?? "")
    }

    func testTheStatusIsCheckedFirst() {
        XCTAssertEqual(
            MessageRequeue.refusal(status: .delivered, numberActive: false, expired: true),
            "it is delivered; only a failed message can be requeued")
    }
}
