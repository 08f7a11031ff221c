extension StringProtocol {
    /// A copy without leading and trailing whitespace (FoundationEssentials has no
    /// `trimmingCharacters(in:)`).
    public var trimmed: String {
        var scalars = Substring(self)
        while let first = scalars.first, first.isWhitespace { scalars.removeFirst() }
        while let last = scalars.last, last.isWhitespace { scalars.removeLast() }
        return String(scalars)
    }
}
