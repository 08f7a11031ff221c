import FoundationEssentials
import TextingDomain
import TextingFastCGI
import TextingPostgres
import TextingStore
import TextingSupport

extension ConsoleAPI {
    /// A page (GET): what the operator looks at.
    func show(_ path: String, query: [String: String], signed: Signed, connection: PostgresConnection) throws -> HTTPServerResponse {
        let page: ConsolePage
        switch path {
        case "/admin", "/admin/":
            page = try overview(connection)
        case "/admin/failed":
            page = try failed(code: query["code"], connection)
        case "/admin/failed/requeue":
            page = try confirmRequeue(id: query["id"], code: query["code"], signed: signed, connection)
        case "/admin/keys":
            page = try keys(connection)
        case "/admin/keys/revoke":
            page = try confirmRevoke(id: query["id"] ?? "", signed: signed, connection)
        case "/admin/audit":
            page = try audit(before: query["before"], connection)
        case "/admin/messages":
            page = try messages(query: query, connection)
        case "/admin/numbers":
            page = try numbers(signed: signed, connection)
        case "/admin/providers":
            page = try providerPage(signed: signed, connection)
        case _ where path.hasPrefix("/admin/messages/"):
            guard let found = try story(id: String(path.dropFirst("/admin/messages/".count)), signed: signed, connection) else { return Self.notFound }
            page = found
        default:
            return Self.notFound
        }
        var signedPage = page
        signedPage.operatorName = signed.operatorName
        signedPage.csrfToken = signed.csrfToken
        return Self.page(200, signedPage)
    }

    /// A form that posts `fields` (and the CSRF token) to `action` with one button.
    static func form(_ action: String, _ fields: [String: String], csrf: String, button: String, danger: Bool = false) -> String {
        var html = "<form method=\"post\" action=\"\(h(action))\" class=\"inline\">"
        html += "<input type=\"hidden\" name=\"csrf_token\" value=\"\(h(csrf))\">"
        for (name, value) in fields.sorted(by: { $0.key < $1.key }) {
            html += "<input type=\"hidden\" name=\"\(h(name))\" value=\"\(h(value))\">"
        }
        return html + "<button type=\"submit\"\(danger ? " class=\"danger\"" : "")>\(h(button))</button></form>"
    }

    static func figure(_ label: String, _ value: String) -> String {
        "<div class=\"figure\">\(h(label))<b>\(h(value))</b></div>"
    }

    // MARK: - Overview

    /// The figures of `/metrics` and `textingctl stats` (`MetricsStore.snapshot`), the last
    /// hour's chart, and each provider as `textingctl providers` sees it.
    func overview(_ connection: PostgresConnection) throws -> ConsolePage {
        let snapshot = try MetricsStore(connection: connection).snapshot()
        let minutes = try ConsoleStore(connection: connection).lastHour()
        let states = try ProviderHealthStore(connection: connection).states()
        var body = "<h2>Queue</h2>\n<div class=\"figures\">"
        body += Self.figure("Jobs queued", String(snapshot.jobs)) + Self.figure("Due now", String(snapshot.dueJobs))
        body += Self.figure("Oldest due", SystemSnapshot.seconds(snapshot.oldestDueSeconds) + " s")
        body += "</div>\n<h2>Messages by status</h2>\n"
        body += htmlTable(
            ["status", "messages"], MessageStatus.allCases.map { [$0.rawValue, String(snapshot.messagesByStatus[$0] ?? 0)] }, numeric: [1])
        body += "<h2>The last hour</h2>\n" + ThroughputChart.svg(minutes)
        body += "<h2>Providers</h2>\n"
        let names = providers.map(\.name) + states.map(\.provider).filter { name in !providers.contains { $0.name == name } }
        body += htmlTable(
            ["provider", "state", "breaker", "accepted (last hour)", "temporary failures", "permanent failures", "last failure", "limit", "current rate"],
            names.map { name in
                let state = states.first { $0.provider == name }
                let health = snapshot.providers.first { $0.provider == name }
                let config = providers.first { $0.name == name }
                return [
                    name,
                    config == nil ? "not configured" : state?.pausedAt != nil ? "paused" : "active",
                    health?.openForSeconds.map { "open (tried again in \(SystemSnapshot.seconds($0)) s)" }
                        ?? "closed (\(health?.consecutiveFailures ?? 0) failures in a row)",
                    String(state?.recentAccepted ?? 0), String(state?.recentTemporaryFailures ?? 0), String(state?.recentPermanentFailures ?? 0),
                    state?.lastFailure.map { "\(state?.lastFailureAt ?? "-"): \($0)" } ?? "-",
                    config?.tps.map { AdminCommandRunner.rateOrPrice($0) + "/s" } ?? "-",
                    config?.tps == nil ? "-" : state?.currentRate.map { AdminCommandRunner.rateOrPrice($0) + "/s" } ?? "-",
                ]
            }, numeric: [3, 4, 5])
        body += "<h2>Webhooks</h2>\n<div class=\"figures\">"
        body += Self.figure("Deliveries queued", String(snapshot.webhookDeliveries)) + Self.figure("Due now", String(snapshot.dueWebhookDeliveries))
        body += Self.figure("Oldest due", SystemSnapshot.seconds(snapshot.oldestDueWebhookSeconds) + " s")
        body += Self.figure("Endpoints disabled", String(snapshot.disabledWebhookEndpoints)) + "</div>\n"
        body += "<p>This page reloads itself every 30 seconds.</p>\n"
        return ConsolePage(title: "Overview", body: body, refreshSeconds: 30)
    }

    // MARK: - Failed and stuck

    func failed(code: String?, _ connection: PostgresConnection) throws -> ConsolePage {
        let store = ConsoleStore(connection: connection)
        var body = "<h2>Failed messages by error code</h2>\n"
        body += htmlTable(
            ["error code", "messages", ""],
            try store.failuresByCode().map { failure in
                let link = "/admin/failed?code=" + HTMLText.queryValue(failure.errorCode)
                let all = "/admin/failed/requeue?code=" + HTMLText.queryValue(failure.errorCode)
                return [
                    "<a href=\"\(h(link))\">\(h(failure.errorCode))</a>", String(failure.count),
                    "<a href=\"\(h(all))\">Requeue all…</a>",
                ]
            }, numeric: [1], raw: [0, 2])
        if let code {
            body += "<h2>Newest failed messages with <code>\(h(code))</code></h2>\n"
            body += htmlTable(
                ["message", "number", "detail", "provider", "failed at", ""],
                try store.failedMessages(errorCode: code, limit: 100).map { message in
                    [
                        "<a href=\"/admin/messages/\(h(message.id))\"><code>\(h(message.id))</code></a>", h(message.number), h(message.errorDetail),
                        h(message.provider), h(message.failedAt),
                        "<a href=\"/admin/failed/requeue?id=\(h(HTMLText.queryValue(message.id)))\">Requeue…</a>",
                    ]
                }, raw: [0, 1, 2, 3, 4, 5])
        }
        body +=
            "<h2>Jobs past their lease</h2>\n<p>A sender took these and neither recorded an outcome nor gave them back before its lease ended (it died or stalled); the next claim takes them again.</p>\n"
        body += htmlTable(
            ["message", "leased by", "lease ended", "attempts", "last error"],
            try store.stuckJobs(limit: 100).map {
                [$0.messageID, $0.leasedBy, DecimalText.format($0.leaseEndedSecondsAgo, decimals: 1) + " s ago", String($0.attempts), $0.lastError]
            }, numeric: [3])
        return ConsolePage(title: "Failed and stuck", body: body)
    }

    /// The confirmation step before a requeue: one message (`id`) or every failed one with a code.
    func confirmRequeue(id: String?, code: String?, signed: Signed, _ connection: PostgresConnection) throws -> ConsolePage {
        if let id, let uuid = UUID(uuidString: id) {
            let shown = uuid.uuidString.lowercased()
            let body = """
                <p>Queue message <code>\(h(shown))</code> again? It goes back to <code>queued</code> with a new job, its attempts and error cleared, \
                exactly as <code>textingctl messages requeue \(h(shown))</code> does.</p>
                <p>\(Self.form("/admin/failed/requeue", ["id": shown], csrf: signed.csrfToken, button: "Requeue this message", danger: true)) \
                <a href="/admin/failed">Cancel</a></p>

                """
            return ConsolePage(title: "Requeue a message", body: body)
        }
        if let code, (1...64).contains(code.count) {
            let count = try ConsoleStore(connection: connection).failuresByCode().first { $0.errorCode == code }?.count ?? 0
            let body = """
                <p>Queue again every failed message with error code <code>\(h(code))</code>? \(count) match now; \
                at most \(OperatorActions.requeueAllLimit) are requeued at once, as <code>textingctl messages requeue --error-code \(h(code))</code> does.</p>
                <p>\(Self.form("/admin/failed/requeue", ["code": code], csrf: signed.csrfToken, button: "Requeue \(count) messages", danger: true)) \
                <a href="/admin/failed">Cancel</a></p>

                """
            return ConsolePage(title: "Requeue failed messages", body: body)
        }
        return ConsolePage(title: "Requeue", body: "<p class=\"refused\">Name a message id or an error code.</p>\n")
    }

    // MARK: - API keys

    func keys(_ connection: PostgresConnection) throws -> ConsolePage {
        let rows = try APIKeyStore(connection: connection).list().reversed().map { key in
            [
                h(key.publicID), h(key.name), h(key.prefix + "…"), h(key.createdAt), h(key.revokedAt ?? "-"),
                key.revokedAt == nil ? "<a href=\"/admin/keys/revoke?id=\(h(HTMLText.queryValue(key.publicID)))\">Revoke…</a>" : "",
            ]
        }
        let body =
            "<p>New keys are made with <code>textingctl keys create NAME</code> (the key is shown once, to whoever runs it).</p>\n"
            + htmlTable(["id", "name", "prefix", "created", "revoked", ""], rows, raw: [0, 1, 2, 3, 4, 5])
        return ConsolePage(title: "API keys", body: body)
    }

    func confirmRevoke(id: String, signed: Signed, _ connection: PostgresConnection) throws -> ConsolePage {
        guard let key = try APIKeyStore(connection: connection).list().first(where: { $0.publicID == id && $0.revokedAt == nil }) else {
            return ConsolePage(title: "Revoke a key", body: "<p class=\"refused\">No active key has that id.</p>\n<p><a href=\"/admin/keys\">Back</a></p>\n")
        }
        let body = """
            <p>Revoke key <code>\(h(key.publicID))</code> (\(h(key.name)), \(h(key.prefix))…)? Its requests get 401 from then on; \
            this cannot be undone. The same as <code>textingctl keys revoke \(h(key.publicID))</code>.</p>
            <p>\(Self.form("/admin/keys/revoke", ["id": key.publicID], csrf: signed.csrfToken, button: "Revoke this key", danger: true)) \
            <a href="/admin/keys">Cancel</a></p>

            """
        return ConsolePage(title: "Revoke a key", body: body)
    }

    // MARK: - Audit log

    /// The log a page at a time, newest first: `before` is the id of the last entry of the
    /// page before (the "Older entries" link).
    func audit(before: String?, _ connection: PostgresConnection) throws -> ConsolePage {
        let pageSize = 100
        var body = "<p>Every operator action, from this console and from textingctl, newest first, \(pageSize) to a page.</p>\n"
        var cursor: Int64?
        if let before {
            if let id = Int64(before), id > 0 {
                cursor = id
            } else {
                body += "<p class=\"refused\">That is not a place in the log; here are the newest entries.</p>\n"
            }
        }
        // One more than a page: whether an older page exists.
        let entries = try AuditLog(connection: connection).page(before: cursor, limit: pageSize + 1)
        let shown = entries.prefix(pageSize)
        body += htmlTable(
            ["when (UTC)", "who", "via", "from", "action", "target", "outcome"],
            shown.map { [$0.at, $0.actor, $0.channel, $0.remoteAddress ?? "-", $0.action, $0.target, $0.outcome] })
        var links: [String] = []
        if cursor != nil { links.append("<a href=\"/admin/audit\">Newest entries</a>") }
        if entries.count > pageSize, let last = shown.last { links.append("<a href=\"/admin/audit?before=\(last.id)\">Older entries</a>") }
        if !links.isEmpty { body += "<p>" + links.joined(separator: " · ") + "</p>\n" }
        return ConsolePage(title: "Audit log", body: body)
    }
}
