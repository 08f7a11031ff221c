/// Numbers as people read them in reports: at most `decimals` digits after the point, without
/// trailing zeros (`0`, `1.5`, `0.0075`), `-` only for a value that does not round to 0.
public enum DecimalText {
    public static func format(_ value: Double, decimals: Int) -> String {
        precondition((0...9).contains(decimals), "decimals is 0 to 9")
        var scale: Int64 = 1
        for _ in 0..<decimals { scale *= 10 }
        let scaled = Int64((abs(value) * Double(scale)).rounded())
        let sign = value < 0 && scaled > 0 ? "-" : ""
        var fraction = decimals == 0 ? "" : String(scaled % scale)
        fraction = String(repeating: "0", count: max(0, decimals - fraction.count)) + fraction
        while fraction.hasSuffix("0") { fraction.removeLast() }
        let whole = sign + String(scaled / scale)
        return fraction.isEmpty ? whole : whole + "." + fraction
    }
}
