/// A transfer that `HTTPClient.poll(timeoutMilliseconds:)` found finished.
public struct HTTPCompletion: Sendable {
    /// The tag given to `HTTPClient.start(_:tag:)`.
    public let tag: Int
    /// The response, or why there is none. An HTTP error status is a `.success`.
    public let result: Result<HTTPResponse, HTTPClientError>
    /// Time from `start` until `poll` saw the transfer finish, including any wait for a free
    /// connection.
    public let elapsed: Duration

    /// Creates a completion, e.g. for a stub in tests.
    public init(tag: Int, result: Result<HTTPResponse, HTTPClientError>, elapsed: Duration) {
        self.tag = tag
        self.result = result
        self.elapsed = elapsed
    }

    /// `elapsed` in whole milliseconds, for logs and metrics.
    public var elapsedMilliseconds: Int {
        let (seconds, attoseconds) = elapsed.components
        return Int(seconds) * 1_000 + Int(attoseconds / 1_000_000_000_000_000)
    }
}
