/// PostgreSQL array literals for passing a batch as one parameter (`$1::bigint[]`), so that a
/// batch costs one statement, not one per row. The values still travel as a parameter, never
/// inside the SQL.
public enum PostgresArray {
    /// `{"a","b"}`: every element quoted, with `"` and `\` escaped, so any text round-trips.
    public static func literal(_ elements: [String]) -> String {
        var text = "{"
        for (index, element) in elements.enumerated() {
            if index > 0 { text += "," }
            text += "\""
            for character in element {
                if character == "\"" || character == "\\" { text += "\\" }
                text.append(character)
            }
            text += "\""
        }
        return text + "}"
    }
}
