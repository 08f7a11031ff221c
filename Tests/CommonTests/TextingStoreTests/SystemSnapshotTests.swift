import TextingDomain
import TextingStore
import XCTest

final class SystemSnapshotTests: XCTestCase {
    private let snapshot = SystemSnapshot(
        jobs: 3, dueJobs: 2, oldestDueSeconds: 1.5,
        messagesByStatus: [.queued: 2, .delivered: 10],
        phoneNumbersByStatus: ["active": 12, "inactive": 1],
        attempts: [.init(provider: "p1", outcome: "accepted", count: 7), .init(provider: "p2", outcome: "temporary_failure", count: 5)],
        providers: [.init(provider: "p1", consecutiveFailures: 0, openForSeconds: nil), .init(provider: "p2", consecutiveFailures: 5, openForSeconds: 12.25)])

    func testPrometheusTextListsEveryStatusAndBothPhoneNumberStatuses() {
        let text = snapshot.prometheusText
        let samples = text.split(separator: "\n").filter { !$0.hasPrefix("#") }
        XCTAssertTrue(samples.contains("texting_queue_jobs 3"))
        XCTAssertTrue(samples.contains("texting_queue_due_jobs 2"))
        XCTAssertTrue(samples.contains("texting_queue_oldest_due_seconds 1.5"))
        for status in MessageStatus.allCases {
            XCTAssertEqual(samples.filter { $0.hasPrefix("texting_messages{status=\"\(status.rawValue)\"} ") }.count, 1, status.rawValue)
        }
        XCTAssertTrue(samples.contains("texting_messages{status=\"failed\"} 0"))
        XCTAssertTrue(samples.contains("texting_phone_numbers{status=\"active\"} 12"))
        XCTAssertTrue(samples.contains("texting_phone_numbers{status=\"inactive\"} 1"))
        XCTAssertTrue(samples.contains("texting_provider_attempts_total{outcome=\"accepted\",provider=\"p1\"} 7"))
        XCTAssertTrue(samples.contains("texting_provider_breaker_open{provider=\"p1\"} 0"))
        XCTAssertTrue(samples.contains("texting_provider_breaker_open{provider=\"p2\"} 1"))
        XCTAssertTrue(samples.contains("texting_provider_consecutive_failures{provider=\"p2\"} 5"))
    }

    func testEachFamilyIsDeclaredOnceBeforeItsSamples() {
        var declared: [String] = []
        for line in snapshot.prometheusText.split(separator: "\n") {
            if line.hasPrefix("# TYPE ") {
                let name = String(line.split(separator: " ")[2])
                XCTAssertFalse(declared.contains(name), name)
                declared.append(name)
            } else if !line.hasPrefix("#") {
                let name = String(line.prefix { $0 != "{" && $0 != " " })
                XCTAssertEqual(declared.last, name, String(line))
            }
        }
        XCTAssertTrue(declared.contains("texting_phone_numbers"))
    }

    func testAnEmptySystemStillShowsEveryStatusAtZero() {
        let text = SystemSnapshot().prometheusText
        XCTAssertTrue(text.contains("texting_phone_numbers{status=\"inactive\"} 0\n"))
        XCTAssertTrue(text.contains("texting_messages{status=\"queued\"} 0\n"))
        XCTAssertTrue(text.contains("texting_queue_oldest_due_seconds 0\n"))
        XCTAssertTrue(SystemSnapshot().report.contains("providers: none tried yet"))
    }

    func testReportShowsQueueStatusesNumbersAndBreakers() {
        let lines = snapshot.report.split(separator: "\n").map(String.init)
        XCTAssertEqual(
            Array(lines.prefix(5)),
            [
                "queue_jobs: 3",
                "queue_due_jobs: 2",
                "queue_oldest_due_seconds: 1.5",
                "messages: queued=2 sending=0 sent=0 delivered=10 failed=0 invalid=0 canceled=0",
                "phone_numbers: active=12 inactive=1",
            ])
        XCTAssertTrue(lines.contains("provider p1: breaker closed consecutive_failures=0 accepted=7 temporary_failure=0 permanent_failure=0"), snapshot.report)
        XCTAssertTrue(
            lines.contains("provider p2: breaker open (tried again in 12.25 s) consecutive_failures=5 accepted=0 temporary_failure=5 permanent_failure=0"),
            snapshot.report)
    }

    func testSecondsAreShortAndNeverNegative() {
        XCTAssertEqual(SystemSnapshot.seconds(0), "0")
        XCTAssertEqual(SystemSnapshot.seconds(-3), "0")
        XCTAssertEqual(SystemSnapshot.seconds(2), "2")
        XCTAssertEqual(SystemSnapshot.seconds(0.0504), "0.05")
        XCTAssertEqual(SystemSnapshot.seconds(12.3456), "12.346")
        XCTAssertEqual(SystemSnapshot.seconds(0.001), "0.001")
    }
}
