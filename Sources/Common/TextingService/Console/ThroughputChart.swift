import TextingStore
import TextingSupport

/// The overview's chart of the last hour, drawn on the server as SVG (no script, no style
/// attribute: presentation attributes only, which the Content-Security-Policy allows): one
/// line each for messages sent, delivered and failed per minute.
enum ThroughputChart {
    static let width = 600
    static let height = 200
    static let margin = 30

    static func svg(_ minutes: [ConsoleStore.Minute]) -> String {
        let peak = max(1, minutes.map { max($0.sent, $0.delivered, $0.failed) }.max() ?? 1)
        let plotWidth = Double(width - 2 * margin)
        let plotHeight = Double(height - 2 * margin)
        func points(_ value: (ConsoleStore.Minute) -> Int) -> String {
            minutes.enumerated().map { index, minute in
                let x = Double(margin) + plotWidth * Double(index) / Double(max(1, minutes.count - 1))
                let y = Double(height - margin) - plotHeight * Double(value(minute)) / Double(peak)
                return DecimalText.format(x, decimals: 1) + "," + DecimalText.format(y, decimals: 1)
            }.joined(separator: " ")
        }
        let total = { (value: (ConsoleStore.Minute) -> Int) in minutes.reduce(0) { $0 + value($1) } }
        return """
            <svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 \(width) \(height)" width="\(width)" height="\(height)" role="img" \
            aria-label="messages per minute over the last hour">
            <line x1="\(margin)" y1="\(height - margin)" x2="\(width - margin)" y2="\(height - margin)" stroke="#999"/>
            <line x1="\(margin)" y1="\(margin)" x2="\(margin)" y2="\(height - margin)" stroke="#999"/>
            <text x="\(margin - 4)" y="\(margin + 4)" text-anchor="end" font-size="11">\(peak)</text>
            <text x="\(margin - 4)" y="\(height - margin)" text-anchor="end" font-size="11">0</text>
            <text x="\(margin)" y="\(height - 8)" font-size="11">60 min ago</text>
            <text x="\(width - margin)" y="\(height - 8)" text-anchor="end" font-size="11">now</text>
            <polyline fill="none" stroke="#2b6cb0" stroke-width="2" points="\(points { $0.sent })"/>
            <polyline fill="none" stroke="#2f855a" stroke-width="2" points="\(points { $0.delivered })"/>
            <polyline fill="none" stroke="#c53030" stroke-width="2" points="\(points { $0.failed })"/>
            </svg>
            <p class="legend"><span class="sent">■ sent \(total { $0.sent })</span><span class="delivered">■ delivered \(total { $0.delivered })</span>\
            <span class="failed">■ failed \(total { $0.failed })</span> in the last hour (per minute, peak \(peak))</p>

            """
    }
}
