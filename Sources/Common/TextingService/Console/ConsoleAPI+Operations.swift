import TextingDomain
import TextingPostgres
import TextingStore
import TextingSupport

extension ConsoleAPI {
    // MARK: - Numbers

    func numbers(signed: Signed, _ connection: PostgresConnection) throws -> ConsolePage {
        var body =
            "<h2>Inactive numbers</h2>\n<p>A provider reported these invalid: new messages to them are refused until one is reactivated (as <code>textingctl numbers reactivate NUMBER</code> does). Their failed messages stay failed; requeue them from Failed and stuck.</p>\n"
        body += htmlTable(
            ["number", "inactive since", ""],
            try NumberLists(connection: connection).inactive(limit: 200).map {
                [h($0.number), h($0.since), Self.form("/admin/numbers/reactivate", ["number": $0.number], csrf: signed.csrfToken, button: "Reactivate")]
            }, raw: [0, 1, 2])
        body +=
            "<h2>Opted-out numbers</h2>\n<p>Recipients who replied STOP, or whom an operator opted out: nothing is sent to them. Opting one in again needs a reason (their consent, say), kept with the change, as <code>textingctl optouts remove NUMBER REASON</code> does.</p>\n"
        body += htmlTable(
            ["number", "since", "source", "by", "why", ""],
            try OptOutStore(connection: connection).list(limit: 200).map { entry in
                [
                    h(entry.number), h(entry.since), h(entry.source), h(entry.actor), h(entry.reason),
                    """
                    <form method="post" action="/admin/numbers/opt-in" class="inline"><input type="hidden" name="csrf_token" value="\(h(signed.csrfToken))">\
                    <input type="hidden" name="number" value="\(h(entry.number))"><input type="text" name="reason" maxlength="500" required placeholder="why" \
                    aria-label="why"> <button type="submit">Opt in</button></form>
                    """,
                ]
            }, raw: Set(0..<6))
        return ConsolePage(title: "Numbers", body: body)
    }

    // MARK: - Providers

    func providerPage(signed: Signed, _ connection: PostgresConnection) throws -> ConsolePage {
        let states = try ProviderHealthStore(connection: connection).states()
        let rows = providers.map { config -> [String] in
            let state = states.first { $0.provider == config.name }
            let paused = state?.pausedAt != nil
            let pause = state.flatMap { state in state.pausedAt.map { "\($0) by \(state.pausedBy ?? "?"): \(state.pauseReason ?? "")" } } ?? "-"
            let action =
                paused
                ? Self.form("/admin/providers/resume", ["name": config.name], csrf: signed.csrfToken, button: "Resume")
                : """
                <form method="post" action="/admin/providers/pause" class="inline"><input type="hidden" name="csrf_token" value="\(h(signed.csrfToken))">\
                <input type="hidden" name="name" value="\(h(config.name))"><input type="text" name="reason" maxlength="500" placeholder="why" aria-label="why">\
                <button type="submit" class="danger">Pause</button></form>
                """
            return [
                h(config.name), paused ? "paused" : "active",
                h(state.map { $0.breakerOpen ? "open" : $0.consecutiveFailures > 0 ? "closed (\($0.consecutiveFailures) failures)" : "closed" } ?? "closed"),
                h(config.tps.map { AdminCommandRunner.rateOrPrice($0) + "/s" } ?? "-"),
                h(config.tps == nil ? "-" : state?.currentRate.map { AdminCommandRunner.rateOrPrice($0) + "/s" } ?? "-"),
                h(config.prefixes.isEmpty ? "*" : config.prefixes.joined(separator: ",")), String(state?.sends ?? 0), h(pause), action,
            ]
        }
        let body =
            "<p>Pausing a provider stops every sender sending to it from its next claim (its messages wait or go to others), as <code>textingctl providers pause NAME WHY</code> does.</p>\n"
            + htmlTable(["provider", "state", "breaker", "limit", "current rate", "prefixes", "sends", "paused", ""], rows, numeric: [6], raw: Set(0..<9))
        return ConsolePage(title: "Providers", body: body)
    }
}
