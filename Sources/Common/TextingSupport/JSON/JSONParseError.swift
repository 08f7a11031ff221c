/// A request body that is not well-formed JSON.
public struct JSONParseError: Error, Sendable {
    /// What is wrong and where, short enough for a problem document's `detail`
    /// ("trailing comma in object at byte 7"); it quotes at most a few dozen characters of input.
    public let reason: String
    /// The byte offset (from 0) where the problem was found, if it has one.
    public let byteOffset: Int?

    public init(reason: String, byteOffset: Int? = nil) {
        self.reason = reason
        self.byteOffset = byteOffset
    }
}
