import FoundationEssentials
import TextingDomain
import TextingService
import TextingStore
import XCTest

/// The usage error `textingctl` would print for `arguments`, or nil when they parse (shared by
/// the command tests).
func usageError(_ arguments: [String]) -> String? {
    do {
        _ = try AdminCommand.parse(arguments)
        return nil
    } catch {
        return error.message
    }
}

final class AdminCommandTests: XCTestCase {
    func testKeySendersAreReadAndCheckedBeforeAnythingRuns() throws {
        XCTAssertEqual(try AdminCommand.parse(["keys", "senders", "7c1e"]), .keysSendersList(id: "7c1e"))
        XCTAssertEqual(
            try AdminCommand.parse(["keys", "senders", "add", "7c1e", "ACME Ltd", "--default"]),
            .keysSendersAdd(id: "7c1e", sender: "ACME Ltd", pooled: false, isDefault: true))
        XCTAssertEqual(
            try AdminCommand.parse(["keys", "senders", "add", "7c1e", "+15555550100", "--pool", "--default"]),
            .keysSendersAdd(id: "7c1e", sender: "+15555550100", pooled: true, isDefault: true))
        XCTAssertEqual(try AdminCommand.parse(["keys", "senders", "remove", "7c1e", "ACME"]), .keysSendersRemove(id: "7c1e", sender: "ACME"))
        XCTAssertNotNil(usageError(["keys", "senders"]))
        XCTAssertNotNil(usageError(["keys", "senders", "add", "7c1e"]))
        XCTAssertNotNil(usageError(["keys", "senders", "add", "7c1e", "ACME", "--sticky"]))
        XCTAssertNotNil(usageError(["keys", "senders", "add", "7c1e", "ACME", "--pool", "--pool"]))
        XCTAssertNotNil(usageError(["keys", "senders", "add", "7c1e", "ACME Limited Co"]))
        XCTAssertNotNil(usageError(["keys", "senders", "remove", "7c1e"]))
    }

    func testKeyLimitsOptionsAreCheckedBeforeAnythingRuns() {
        XCTAssertNotNil(usageError(["keys", "limits"]))
        XCTAssertNotNil(usageError(["keys", "limits", "--rate", "5/s"]))
        XCTAssertEqual(usageError(["keys", "limits", "7c1e", "--rate"]), "--rate needs a value (or `none`)")
        XCTAssertNotNil(usageError(["keys", "limits", "7c1e", "--rate", "5/s", "--rate", "6/s"]))
        XCTAssertNotNil(usageError(["keys", "limits", "7c1e", "--colour", "red"]))
        XCTAssertNotNil(usageError(["keys", "limits", "7c1e", "--rate", "quick"]))
        XCTAssertNotNil(usageError(["keys", "limits", "7c1e", "--burst", "0"]))
        XCTAssertNotNil(usageError(["keys", "limits", "7c1e", "--segments-per-day", "-3"]))
    }

    func testEveryCommandIsRead() throws {
        XCTAssertEqual(try AdminCommand.parse(["migrate"]), .migrate)
        XCTAssertEqual(try AdminCommand.parse(["keys", "create", "billing", "service"]), .keysCreate(name: "billing service"))
        XCTAssertEqual(try AdminCommand.parse(["keys", "list"]), .keysList)
        XCTAssertEqual(try AdminCommand.parse(["keys", "revoke", "7c1e"]), .keysRevoke(id: "7c1e"))
        XCTAssertEqual(
            try AdminCommand.parse(["keys", "limits", "7c1e"]),
            .keysLimits(id: "7c1e", rate: .keep, burst: .keep, segmentsPerDay: .keep, segmentsPerMonth: .keep))
        XCTAssertEqual(
            try AdminCommand.parse([
                "keys", "limits", "7c1e", "--segments-per-month", "200000", "--rate", "50/s", "--burst", "200", "--segments-per-day", "none",
            ]),
            .keysLimits(id: "7c1e", rate: .set(50), burst: .set(200), segmentsPerDay: .remove, segmentsPerMonth: .set(200_000)))
        XCTAssertEqual(try AdminCommand.parse(["numbers", "reactivate", "+15555550100"]), .numbersReactivate(number: "+15555550100"))
        let id = "4b6d1f0e-6a43-4c07-9d0b-2f1f5b0b8f7e"
        XCTAssertEqual(try AdminCommand.parse(["messages", "requeue", id]), .messagesRequeue(id: UUID(uuidString: id)!))
        XCTAssertEqual(try AdminCommand.parse(["messages", "requeue", id.uppercased()]), .messagesRequeue(id: UUID(uuidString: id)!))
        XCTAssertEqual(try AdminCommand.parse(["stats"]), .stats)
        XCTAssertEqual(try AdminCommand.parse(["optouts", "list"]), .optOutsList)
        XCTAssertEqual(try AdminCommand.parse(["providers", "inbound-url"]), .providersInboundURL)
        XCTAssertEqual(
            try AdminCommand.parse(["optouts", "add", "+15555550100", "complaint", "by", "phone"]),
            .optOutsAdd(number: "+15555550100", reason: "complaint by phone"))
        XCTAssertEqual(try AdminCommand.parse(["optouts", "remove", "5555550100", "asked again"]), .optOutsRemove(number: "5555550100", reason: "asked again"))
        XCTAssertEqual(try AdminCommand.parse(["prune"]), .prune)
        XCTAssertEqual(try AdminCommand.parse(["sql"]), .sql(name: nil))
        XCTAssertEqual(try AdminCommand.parse(["sql", "jobs.claim"]), .sql(name: "jobs.claim"))
        XCTAssertEqual(try AdminCommand.parse(["settings", "table"]), .settings(.table))
        XCTAssertEqual(try AdminCommand.parse(["settings", "example"]), .settings(.example))
        XCTAssertEqual(try AdminCommand.parse(["partitions"]), .partitionsList)
        XCTAssertEqual(try AdminCommand.parse(["partitions", "list"]), .partitionsList)
        XCTAssertEqual(try AdminCommand.parse(["partitions", "maintain"]), .partitionsMaintain)
        XCTAssertEqual(try AdminCommand.parse(["messages", "export", "--before", "2026-01-31"]), .messagesExport(before: "2026-01-31T00:00:00Z"))
        XCTAssertEqual(
            try AdminCommand.parse(["messages", "export", "--before", "2026-01-31T12:30:00.250+02:00"]),
            .messagesExport(before: "2026-01-31T12:30:00.250+02:00"))
    }

    func testMalformedCommandsSayWhatIsMissingInOneLine() {
        let cases: [([String], String)] = [
            ([], "a command is needed"),
            (["frobnicate"], "unknown command `frobnicate`"),
            (["stats", "now"], "unknown command `stats now`"),
            (["keys", "create"], "name of 1 to 100 characters"),
            (["keys", "create", String(repeating: "x", count: 101)], "name of 1 to 100 characters"),
            (["keys", "revoke"], "needs the key's id"),
            (["keys", "list", "all"], "unknown command"),
            (["numbers", "reactivate"], "needs one phone number"),
            (["numbers", "reactivate", "+1555", "+1666"], "needs one phone number"),
            (["messages", "requeue"], "needs one message id"),
            (["messages", "requeue", "42"], "needs a message id (a UUID"),
            (["sql", "jobs.claim", "extra"], "unknown command"),
            (["settings"], "needs `table` or `example`"),
            (["settings", "json"], "needs `table` or `example`; got `json`"),
            (["messages", "cancel", "x"], "unknown command `messages cancel`"),
            (["optouts", "add", "+15555550100"], "needs a phone number and a reason"),
            (["optouts", "remove"], "needs a phone number and a reason"),
            (["optouts", "list", "all"], "unknown command"),
            (["messages", "export"], "needs --before and a date"),
            (["messages", "export", "2026-01-31"], "needs --before and a date"),
            (["messages", "export", "--before", "yesterday"], "needs --before and a date"),
            (["messages", "export", "--before", "2026-01-31 12:00"], "needs --before and a date"),
            (["messages", "export", "--before", "2026-01-31T12:00:00"], "needs --before and a date"),
            (["messages", "export", "--before", "2026-01-31T12:00:00Z'; DROP TABLE messages"], "needs --before and a date"),
            (["messages", "export", "--before", "2026-01-31", "--after"], "needs --before and a date"),
            (["partitions", "drop"], "unknown command"),
            (["partitions", "maintain", "now"], "unknown command"),
        ]
        for (arguments, expected) in cases {
            let message = usageError(arguments)
            XCTAssertNotNil(message, "\(arguments)")
            XCTAssertTrue(message?.contains(expected) ?? false, "\(arguments): \(message ?? "")")
            XCTAssertFalse(message?.contains("\n") ?? true, "\(arguments)")
        }
    }
}
