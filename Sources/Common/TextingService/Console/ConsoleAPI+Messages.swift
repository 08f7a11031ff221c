import FoundationEssentials
import TextingDomain
import TextingPostgres
import TextingStore
import TextingSupport

extension ConsoleAPI {
    /// What the search box was asked: `by` one of id, number, client_ref, status.
    func search(_ query: [String: String]) -> (MessageStory.Search?, refusal: String?) {
        let text = (query["q"] ?? "").trimmed
        guard !text.isEmpty else { return (nil, nil) }
        switch query["by"] ?? "id" {
        case "id":
            guard let id = UUID(uuidString: text) else { return (nil, "A message id is a UUID as the API shows it.") }
            return (.id(id), nil)
        case "number":
            do {
                return (.number(try PhoneNumber(parsing: text, defaultCountryCode: defaultCountryCode)), nil)
            } catch {
                return (nil, error.detail)
            }
        case "client_ref":
            return text.count <= 64 ? (.clientRef(text), nil) : (nil, "A client_ref is at most 64 characters.")
        case "status":
            guard let status = MessageStatus(rawValue: text) else {
                return (nil, "A status is one of " + MessageStatus.allCases.map(\.rawValue).joined(separator: ", ") + ".")
            }
            return (.status(status), nil)
        default:
            return (nil, "Search by id, number, client_ref or status.")
        }
    }

    func messages(query: [String: String], _ connection: PostgresConnection) throws -> ConsolePage {
        let by = query["by"] ?? "id"
        var body = """
            <form method="get" action="/admin/messages">
            <p><label for="q">Find messages</label><br><input id="q" name="q" type="search" value="\(h(query["q"] ?? ""))" required>
            <select name="by" aria-label="by">
            """
        for (value, label) in [("id", "by id"), ("number", "by number"), ("client_ref", "by client_ref"), ("status", "by status")] {
            body += "<option value=\"\(value)\"\(value == by ? " selected" : "")>\(label)</option>"
        }
        body += "</select> <button type=\"submit\">Find</button></p>\n</form>\n"
        let (found, refusal) = search(query)
        if let refusal { body += "<p class=\"refused\">\(h(refusal))</p>\n" }
        if let found {
            let messages = try MessageStory(connection: connection).find(found)
            // No index holds the status (migration 0032): a search by status reads each key's newest.
            let limit = MessageStory.findLimit
            let scope = if case .status = found { ", among each key's newest \(MessageStore.statusWalkRows(limit))" } else { "" }
            body += "<h2>\(messages.count) found (newest first, at most \(limit)\(scope))</h2>\n"
            body += htmlTable(
                ["message", "to", "status", "client_ref", "provider", "created", "body"],
                messages.map {
                    [
                        "<a href=\"/admin/messages/\(h($0.id))\"><code>\(h($0.id))</code></a>", h($0.toNumber), h($0.status.rawValue),
                        h($0.clientRef ?? "-"), h($0.provider ?? "-"), h($0.createdAt), h(String($0.body.prefix(80))),
                    ]
                }, raw: [0, 1, 2, 3, 4, 5, 6])
        }
        return ConsolePage(title: "Messages", body: body)
    }

    func story(id: String, signed: Signed, _ connection: PostgresConnection) throws -> ConsolePage? {
        guard let uuid = UUID(uuidString: id), let story = try MessageStory(connection: connection).story(id: uuid) else { return nil }
        let message = story.message
        var body = htmlTable(
            ["field", "value"],
            [
                ["id", message.id], ["to", message.toNumber], ["from", message.from ?? "-"], ["key", story.keyName],
                ["status", message.status.rawValue], ["body", message.body], ["segments", "\(message.segments) (\(message.encoding))"],
                ["client_ref", message.clientRef ?? "-"], ["provider", message.provider ?? "-"], ["provider's id", message.providerMessageID ?? "-"],
                ["attempts", String(message.attempts)], ["requeues", String(story.requeues)],
                [
                    "error",
                    message.errorCode.map { code in ([code] + (message.providerErrorCode.map { ["provider code \($0)"] } ?? [])).joined(separator: ", ") }
                        ?? "-",
                ],
                ["provider's answer", message.errorDetail ?? "-"], ["created", message.createdAt], ["send at", message.sendAt ?? "-"],
                ["expires", message.expiresAt ?? "-"], ["sent", message.sentAt ?? "-"], ["delivered", message.deliveredAt ?? "-"],
                ["failed", message.failedAt ?? "-"], ["canceled", message.canceledAt ?? "-"],
            ])
        if message.status == .failed {
            body += "<p><a href=\"/admin/failed/requeue?id=\(h(message.id))\">Requeue…</a></p>\n"
        }
        body += "<h2>Its job</h2>\n"
        body += htmlTable(
            ["due", "attempts", "last provider", "last error", "leased by", "lease until"],
            story.job.map { job in
                [[job["run_at"], job["attempts"], job["last_provider"], job["last_error"], job["leased_by"], job["leased_until"]].map { $0 ?? "-" }]
            }
                ?? [])
        body += "<h2>Attempts</h2>\n"
        body += htmlTable(
            ["when (UTC)", "attempt", "provider", "outcome", "answer", "provider's code"],
            story.attempts.map { [$0.at, String($0.attempt), $0.provider, $0.outcome, $0.answer, $0.providerCode ?? "-"] })
        body += "<h2>Status changes (with the provider and its answer then)</h2>\n"
        body += htmlTable(
            ["when (UTC)", "event", "provider", "error", "answer"],
            story.events.map { [$0["at"], $0["type"], $0["provider"], $0["error_code"], $0["error_detail"]].map { $0 ?? "-" } })
        body += "<h2>Provider reports</h2>\n"
        body += htmlTable(
            ["when (UTC)", "reported", "applied", "provider's id"],
            story.reports.map { [$0["at"], $0["reported_status"], $0["applied"], $0["provider_message_id"]].map { $0 ?? "-" } })
        body += "<h2>Webhook deliveries</h2>\n"
        body += htmlTable(
            ["when (UTC)", "event", "url", "attempt", "outcome", "HTTP status", "error"],
            story.webhooks.map { [$0["at"], $0["type"], $0["url"], $0["attempt"], $0["outcome"], $0["http_status"], $0["error"]].map { $0 ?? "-" } })
        return ConsolePage(title: "Message \(message.id)", body: body)
    }
}
