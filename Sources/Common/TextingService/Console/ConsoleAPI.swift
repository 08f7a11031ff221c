import FoundationEssentials
import TextingDomain
import TextingFastCGI
import TextingPostgres
import TextingStore
import TextingSupport

/// The operator console (`/admin`, served by AdminFCGI): server-rendered pages over the same
/// stores `textingctl` and `/metrics` read, and the same `OperatorActions` `textingctl` runs.
///
/// Access: a session cookie from signing in with an operator token (`textingctl operators
/// create`); without one a page redirects to the sign-in form and an action is refused (403).
/// Every POST must carry the session's CSRF token (and, when the browser sends `Origin`, come
/// from this host). Every action, and every sign-in, is written to the audit log.
public struct ConsoleAPI: Sendable {
    let providers: [ProviderConfig]
    let defaultCountryCode: String

    public init(providers: [ProviderConfig], defaultCountryCode: String) {
        self.providers = providers
        self.defaultCountryCode = defaultCountryCode
    }

    /// A signed-in request: the operator, their session's CSRF token, and who to audit.
    struct Signed {
        let operatorName: String
        let csrfToken: String
        let sessionToken: String
        let actor: OperatorActor
    }

    /// The headers every console answer carries: no script anywhere, styles from our own
    /// stylesheet only, no framing, no caching of pages that show customer data.
    static let securityHeaders: [(name: String, value: String)] = [
        (
            "Content-Security-Policy",
            "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
        ),
        ("X-Content-Type-Options", "nosniff"),
        ("X-Frame-Options", "DENY"),
        // Not no-referrer: under it browsers send `Origin: null` with the console's own forms,
        // which `sameOrigin` must refuse. Other sites still get no referrer.
        ("Referrer-Policy", "same-origin"),
        ("Cache-Control", "no-store"),
    ]

    public func handle(_ request: HTTPServerRequest, connection: PostgresConnection) throws -> HTTPServerResponse {
        let path = request.path
        guard path == "/admin" || path.hasPrefix("/admin/") else { return Self.notFound }
        switch (request.method, path) {
        case ("GET", "/admin/console.css"), ("HEAD", "/admin/console.css"):
            return HTTPServerResponse(
                status: 200, headers: [("Content-Type", "text/css; charset=utf-8"), ("Cache-Control", "max-age=300"), ("X-Content-Type-Options", "nosniff")],
                body: Array(ConsolePage.stylesheet.utf8))
        case ("GET", "/admin/login"):
            return Self.page(200, ConsolePage(title: "Sign in", body: Self.loginForm(refusal: nil)))
        case ("POST", "/admin/login"):
            guard Self.sameOrigin(request) else { return Self.refused("This form must be sent from the console's own pages.") }
            return try signIn(request, connection: connection)
        default:
            break
        }

        let token = ConsoleCookie.token(in: request.header("cookie"))
        guard let token, let session = try OperatorSessionStore(connection: connection).find(token: token) else {
            // A page leads to the sign-in form; an action without a session is refused outright.
            return request.method == "GET" || request.method == "HEAD" ? Self.redirect("/admin/login") : Self.refused("Sign in first: no valid session.")
        }
        let signed = Signed(
            operatorName: session.operatorName, csrfToken: session.csrfToken, sessionToken: token,
            actor: OperatorActor(name: session.operatorName, channel: .console, remoteAddress: request.remoteAddress))

        if request.method == "POST" {
            let form = request.formParameters
            guard Self.sameOrigin(request) else { return Self.refused("This form must be sent from the console's own pages.") }
            guard let sent = form["csrf_token"], Digest.constantTimeEqual(Array(sent.utf8), Array(session.csrfToken.utf8)) else {
                return Self.refused("The form's CSRF token is missing or wrong: reload the page and try again.")
            }
            return try act(path, form: form, signed: signed, connection: connection)
        }
        guard request.method == "GET" || request.method == "HEAD" else {
            return HTTPServerResponse(status: 405, headers: Self.securityHeaders + [("Allow", "GET, POST")], body: [])
        }
        return try show(path, query: request.queryParameters, signed: signed, connection: connection)
    }

    // MARK: - Signing in and out

    private func signIn(_ request: HTTPServerRequest, connection: PostgresConnection) throws -> HTTPServerResponse {
        let typed = (request.formParameters["token"] ?? "").trimmed
        let anonymous = OperatorActor(name: "-", channel: .console, remoteAddress: request.remoteAddress)
        guard let found = try OperatorStore(connection: connection).authenticate(token: typed) else {
            try OperatorActions(connection: connection, actor: anonymous)
                .record("session.login", target: typed.hasPrefix(OperatorToken.scheme) ? OperatorToken.prefix(of: typed) : "-", outcome: "refused")
            return Self.page(401, ConsolePage(title: "Sign in", body: Self.loginForm(refusal: "That is not an active operator token.")))
        }
        let actor = OperatorActor(name: found.name, channel: .console, remoteAddress: request.remoteAddress)
        let opened = try connection.transaction { connection in
            let opened = try OperatorSessionStore(connection: connection).open(operatorID: found.id, remoteAddress: request.remoteAddress)
            try OperatorActions(connection: connection, actor: actor).record("session.login", target: found.publicID, outcome: "signed in")
            return opened
        }
        return Self.redirect("/admin/", cookie: ConsoleCookie.set(opened.token))
    }

    static func loginForm(refusal: String?) -> String {
        (refusal.map { "<p class=\"refused\">\(h($0))</p>\n" } ?? "")
            + """
            <p>Sign in with your operator token (from <code>textingctl operators create NAME</code>). API keys do not open the console.</p>
            <form method="post" action="/admin/login">
            <p><label for="token">Operator token</label><br><input id="token" name="token" type="password" autocomplete="off" required></p>
            <p><button type="submit">Sign in</button></p>
            </form>

            """
    }

    // MARK: - Answers

    static func page(_ status: Int, _ page: ConsolePage, headers: [(name: String, value: String)] = []) -> HTTPServerResponse {
        HTTPServerResponse(
            status: status, headers: [("Content-Type", "text/html; charset=utf-8")] + securityHeaders + headers, body: Array(page.html.utf8))
    }

    static func redirect(_ location: String, cookie: String? = nil) -> HTTPServerResponse {
        HTTPServerResponse(
            status: 303, headers: [("Location", location)] + securityHeaders + (cookie.map { [("Set-Cookie", $0)] } ?? []), body: [])
    }

    /// 403: an action without a session, a wrong CSRF token, a form from another site.
    static func refused(_ why: String) -> HTTPServerResponse {
        page(403, ConsolePage(title: "Refused", body: "<p class=\"refused\">\(h(why))</p>\n<p><a href=\"/admin/\">Back to the console</a></p>\n"))
    }

    static let notFound = page(404, ConsolePage(title: "Not found", body: "<p>No such page. <a href=\"/admin/\">Back to the console</a></p>\n"))

    /// A form posted from another site says so in `Origin` (browsers send it with every POST);
    /// its host must be the one the request was sent to. No `Origin` (an old client, curl):
    /// the CSRF token alone decides.
    static func sameOrigin(_ request: HTTPServerRequest) -> Bool {
        guard let origin = request.header("origin") else { return true }
        guard let host = request.header("host") else { return false }
        let parts = origin.split(separator: "/", omittingEmptySubsequences: false)
        // `scheme://host[:port]`: ["scheme:", "", "host[:port]"].
        guard parts.count == 3, parts[0].hasSuffix(":"), parts[1].isEmpty else { return false }
        // Hosts without ports: Debian's fastcgi_params passes nginx's `$host` as HTTP_HOST,
        // which has none.
        return hostName(parts[2]) == hostName(host)
    }

    /// `host[:port]` or `[v6]:port` without the port, lowercased.
    static func hostName<S: StringProtocol>(_ authority: S) -> String {
        let text = authority.lowercased()
        if text.hasPrefix("["), let end = text.firstIndex(of: "]") { return String(text[...end]) }
        return String(text.prefix { $0 != ":" })
    }
}
