import FoundationEssentials
import TextingDomain
import TextingFastCGI
import TextingPostgres
import TextingStore
import TextingSupport

extension ConsoleAPI {
    /// An action (POST, session and CSRF token checked): carried out by `OperatorActions`, as
    /// its textingctl command is, then a page saying what came of it.
    func act(_ path: String, form: [String: String], signed: Signed, connection: PostgresConnection) throws -> HTTPServerResponse {
        let actions = OperatorActions(connection: connection, actor: signed.actor)
        let notice: String
        let refused: Bool
        let back: (String, String)
        switch path {
        case "/admin/logout":
            try connection.transaction { connection in
                try OperatorSessionStore(connection: connection).close(token: signed.sessionToken)
                try OperatorActions(connection: connection, actor: signed.actor).record("session.logout", target: "-", outcome: "signed out")
            }
            return Self.redirect("/admin/login", cookie: ConsoleCookie.clear)
        case "/admin/failed/requeue":
            back = ("/admin/failed", "Back to failed messages")
            if let id = form["id"].flatMap(UUID.init(uuidString:)) {
                let shown = id.uuidString.lowercased()
                switch try actions.requeue(id: id) {
                case .requeued: (notice, refused) = ("Requeued \(shown): queued again with a new job, attempts reset.", false)
                case .notFound: (notice, refused) = ("No message has the id \(shown).", true)
                case .refused(let reason): (notice, refused) = ("Message \(shown) was not requeued: \(reason).", true)
                }
            } else if let code = form["code"], (1...64).contains(code.count) {
                let outcome = try actions.requeueAll(errorCode: code)
                notice =
                    "Requeued \(outcome.requeued) failed messages with error code \(code)."
                    + (outcome.refused > 0 ? " \(outcome.refused) could not be requeued (a number inactive, a validity over)." : "")
                    + (outcome.more ? " More remain: requeue again." : "")
                refused = false
            } else {
                (notice, refused) = ("Name a message id or an error code.", true)
            }
        case "/admin/numbers/reactivate":
            back = ("/admin/numbers", "Back to numbers")
            guard let typed = form["number"], let number = try? PhoneNumber(parsing: typed, defaultCountryCode: defaultCountryCode) else {
                (notice, refused) = ("That is not a phone number.", true)
                break
            }
            switch try actions.reactivate(number) {
            case .reactivated: (notice, refused) = ("Reactivated \(number.e164): new messages to it are accepted again.", false)
            case .alreadyActive: (notice, refused) = ("\(number.e164) is already active: nothing changed.", true)
            case .unknownNumber: (notice, refused) = ("No message was ever accepted for \(number.e164).", true)
            }
        case "/admin/numbers/opt-in":
            back = ("/admin/numbers", "Back to numbers")
            let reason = (form["reason"] ?? "").trimmed
            guard let typed = form["number"], let number = try? PhoneNumber(parsing: typed, defaultCountryCode: defaultCountryCode),
                (1...500).contains(reason.count)
            else {
                (notice, refused) = ("Opting a number in needs the number and a reason (at most 500 characters).", true)
                break
            }
            switch try actions.changeOptOut(number, add: false, reason: reason) {
            case .optedIn: (notice, refused) = ("\(number.e164) opted in: new messages to it are accepted again.", false)
            default: (notice, refused) = ("\(number.e164) is not on the opt-out list: nothing changed.", true)
            }
        case "/admin/providers/pause", "/admin/providers/resume":
            back = ("/admin/providers", "Back to providers")
            let name = form["name"] ?? ""
            guard providers.contains(where: { $0.name == name }) else {
                (notice, refused) = ("No configured provider is called \(name.prefix(40)).", true)
                break
            }
            if path.hasSuffix("pause") {
                let reason = String((form["reason"] ?? "").trimmed.prefix(500))
                (notice, refused) =
                    try actions.pauseProvider(name, reason: reason.isEmpty ? "paused by an operator" : reason)
                    ? ("Paused \(name): no sender sends to it from its next claim.", false) : ("\(name) is already paused: nothing changed.", true)
            } else {
                (notice, refused) =
                    try actions.resumeProvider(name)
                    ? ("Resumed \(name): senders send to it again from their next claim.", false) : ("\(name) is not paused: nothing changed.", true)
            }
        case "/admin/keys/revoke":
            back = ("/admin/keys", "Back to API keys")
            let id = form["id"] ?? ""
            (notice, refused) =
                try actions.revokeKey(publicID: id)
                ? ("Revoked key \(id): its requests get 401 from now on.", false) : ("No active key has the id \(id).", true)
        default:
            return Self.notFound
        }
        let body = "<p class=\"\(refused ? "refused" : "notice")\">\(h(notice))</p>\n<p><a href=\"\(h(back.0))\">\(h(back.1))</a></p>\n"
        var page = ConsolePage(title: refused ? "Not done" : "Done", body: body)
        page.operatorName = signed.operatorName
        page.csrfToken = signed.csrfToken
        return Self.page(refused ? 409 : 200, page)
    }
}
