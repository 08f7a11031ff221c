/// The longest request body a FastCGI program reads, by path: every path gets `standard`,
/// the paths in `larger` their own (a batch of messages). Bodies over the limit are answered
/// 413 without being read. nginx enforces the same limits in front (`client_max_body_size`).
public struct BodyLimits: Sendable, Equatable {
    public let standard: Int
    public let larger: [String: Int]

    public init(standard: Int = 16 * 1024, larger: [String: Int] = [:]) {
        self.standard = standard
        self.larger = larger
    }

    /// The limit for a request to `path`.
    public func bytes(forPath path: String) -> Int {
        larger[path] ?? standard
    }
}
