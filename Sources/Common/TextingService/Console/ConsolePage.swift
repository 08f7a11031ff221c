import TextingSupport

/// The console's HTML: one layout for every page, readable on a phone (viewport, one column
/// that tables scroll inside), styled by /admin/console.css alone (the Content-Security-Policy
/// allows no inline style and no script at all). Values are escaped by `h`; markup built here
/// from escaped values is the only HTML the console sends.
struct ConsolePage {
    var title: String
    /// Already HTML (built with `h`).
    var body: String
    /// Seconds after which the browser loads the page again (the overview), with no script.
    var refreshSeconds: Int? = nil
    /// The signed-in operator, for the header (nil on the sign-in page).
    var operatorName: String? = nil
    var csrfToken: String? = nil

    /// The pages in the navigation, in order.
    static let sections = [
        ("/admin/", "Overview"), ("/admin/messages", "Messages"), ("/admin/failed", "Failed and stuck"), ("/admin/numbers", "Numbers"),
        ("/admin/providers", "Providers"), ("/admin/keys", "API keys"), ("/admin/audit", "Audit log"),
    ]

    var html: String {
        var page = """
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <meta name="referrer" content="same-origin">

            """
        if let refreshSeconds { page += "<meta http-equiv=\"refresh\" content=\"\(refreshSeconds)\">\n" }
        page += """
            <title>\(h(title)) · texting console</title>
            <link rel="stylesheet" href="/admin/console.css">
            </head>
            <body>
            <header>
            <strong>texting console</strong>

            """
        if let operatorName, let csrfToken {
            page += "<nav>" + Self.sections.map { "<a href=\"\($0.0)\">\(h($0.1))</a>" }.joined(separator: " ") + "</nav>\n"
            page += """
                <form method="post" action="/admin/logout" class="signout"><input type="hidden" name="csrf_token" value="\(h(csrfToken))">\
                <span>\(h(operatorName))</span> <button type="submit">Sign out</button></form>

                """
        }
        page += "</header>\n<main>\n<h1>\(h(title))</h1>\n\(body)</main>\n</body>\n</html>\n"
        return page
    }

    /// The stylesheet (GET /admin/console.css).
    static let stylesheet = """
        body { font-family: system-ui, sans-serif; margin: 0; color: #1d1d1f; background: #fafafa; }
        header { background: #20242b; color: #fff; padding: .6rem 1rem; display: flex; flex-wrap: wrap; gap: .6rem 1.2rem; align-items: center; }
        header a { color: #cde; text-decoration: none; margin-right: .8rem; }
        header a:hover { text-decoration: underline; }
        .signout { margin-left: auto; }
        main { padding: 1rem; max-width: 72rem; }
        h1 { font-size: 1.4rem; margin: .2rem 0 1rem; }
        h2 { font-size: 1.1rem; margin: 1.4rem 0 .5rem; }
        .scroll { overflow-x: auto; }
        table { border-collapse: collapse; background: #fff; }
        th, td { border: 1px solid #ddd; padding: .3rem .5rem; text-align: left; vertical-align: top; }
        th { background: #f0f0f0; }
        td.num { text-align: right; font-variant-numeric: tabular-nums; }
        .figures { display: flex; flex-wrap: wrap; gap: .8rem; }
        .figure { background: #fff; border: 1px solid #ddd; padding: .5rem .8rem; min-width: 9rem; }
        .figure b { display: block; font-size: 1.5rem; }
        .notice { background: #eef7ee; border: 1px solid #9c9; padding: .6rem .8rem; }
        .refused { background: #fbeeee; border: 1px solid #c99; padding: .6rem .8rem; }
        form.inline { display: inline; }
        button { cursor: pointer; }
        button.danger { background: #b3261e; color: #fff; border: 0; padding: .35rem .8rem; }
        input[type=text], input[type=password], input[type=search] { padding: .35rem; width: min(28rem, 100%); box-sizing: border-box; }
        svg { max-width: 100%; height: auto; background: #fff; border: 1px solid #ddd; }
        .legend span { margin-right: 1rem; }
        .sent { color: #2b6cb0; } .delivered { color: #2f855a; } .failed { color: #c53030; }
        code { word-break: break-all; }

        """
}

/// `text` escaped for HTML (`HTMLText.escape`).
func h(_ text: String) -> String {
    HTMLText.escape(text)
}

/// A table of escaped cells; `numeric` columns are right-aligned.
func htmlTable(_ headings: [String], _ rows: [[String]], numeric: Set<Int> = [], raw: Set<Int> = []) -> String {
    var html = "<div class=\"scroll\"><table>\n<tr>" + headings.map { "<th>\(h($0))</th>" }.joined() + "</tr>\n"
    for row in rows {
        html += "<tr>"
        for (index, cell) in row.enumerated() {
            let content = raw.contains(index) ? cell : h(cell)
            html += numeric.contains(index) ? "<td class=\"num\">\(content)</td>" : "<td>\(content)</td>"
        }
        html += "</tr>\n"
    }
    if rows.isEmpty { html += "<tr><td colspan=\"\(headings.count)\">none</td></tr>\n" }
    return html + "</table></div>\n"
}
