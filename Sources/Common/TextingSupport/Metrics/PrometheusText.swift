/// Builds the Prometheus text exposition format, escaping label values as it requires.
public struct PrometheusText {
    public private(set) var output = ""

    public init() {}

    public mutating func header(_ name: String, _ type: String, _ help: String) {
        output += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
    }

    public mutating func gauge(_ name: String, _ help: String, value: String) {
        header(name, "gauge", help)
        sample(name, labels: [:], value: value)
    }

    public mutating func sample(_ name: String, labels: [String: String], value: String) {
        output += name
        if !labels.isEmpty {
            let rendered = labels.keys.sorted().map { key in
                let escaped = labels[key]!.replacingOccurrences("\\", "\\\\").replacingOccurrences("\"", "\\\"").replacingOccurrences("\n", "\\n")
                return "\(key)=\"\(escaped)\""
            }
            output += "{" + rendered.joined(separator: ",") + "}"
        }
        output += " \(value)\n"
    }
}

private extension String {
    func replacingOccurrences(_ target: String, _ replacement: String) -> String {
        split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
    }
}
