/// PostgreSQL array literals for passing a batch as one parameter (`$1::bigint[]`), so that a
/// batch costs one statement, not one per row. The values still travel as a parameter, never
/// inside the SQL.
public enum PostgresArray {
    /// `{"a","b"}`: every element quoted, with `"` and `\` escaped, so any text round-trips.
    public static func literal(_ elements: [String]) -> String {
        // Byte by byte: `"` and `\` are ASCII, so they never occur inside a multi-byte UTF-8
        // sequence, and the bytes in between are copied unchanged.
        var bytes: [UInt8] = [UInt8(ascii: "{")]
        bytes.reserveCapacity(elements.reduce(2) { $0 + $1.utf8.count + 3 })
        for (index, element) in elements.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            bytes.append(UInt8(ascii: "\""))
            for byte in element.utf8 {
                if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") { bytes.append(UInt8(ascii: "\\")) }
                bytes.append(byte)
            }
            bytes.append(UInt8(ascii: "\""))
        }
        bytes.append(UInt8(ascii: "}"))
        return String(decoding: bytes, as: UTF8.self)
    }
}
