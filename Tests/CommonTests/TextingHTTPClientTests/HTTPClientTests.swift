import TextingHTTPClient
import TextingTesting
import XCTest

/// Runs the client against a real HTTP/1.1 server on 127.0.0.1 (`TestHTTPServer`). No test
/// asserts on speed; every wait is bounded by a request timeout or a loop limit.
final class HTTPClientTests: XCTestCase {
    func testPostRoundTripsBodyHeadersAndStatus() throws {
        let server = try TestHTTPServer()
        defer { server.stop() }
        let client = try HTTPClient()

        let request = HTTPRequest(
            url: server.url("/v1/messages"),
            headers: [
                HTTPHeader(name: "Content-Type", value: "application/json"),
                HTTPHeader(name: "X-Request-Id", value: "req-42"),
                HTTPHeader(name: "X-Test-Status", value: "201"),
            ],
            body: Array(#"{"to":"+15550100","text":"hi"}"#.utf8))
        let response = try XCTUnwrap(client.performAll([request]).first).get()

        XCTAssertEqual(response.status, 201)
        XCTAssertEqual(response.bodyText, #"{"to":"+15550100","text":"hi"}"#)
        XCTAssertEqual(response.header("X-ECHO-METHOD"), "POST")
        XCTAssertEqual(response.header("x-echo-path"), "/v1/messages")
        XCTAssertEqual(response.header("X-Echo-X-Request-Id"), "req-42")
        XCTAssertEqual(response.header("x-echo-content-type"), "application/json")
        XCTAssertEqual(response.header("x-echo-content-length"), "\(request.body.count)")
        XCTAssertNil(response.header("x-echo-expect"), "an Expect header costs a round trip")
        XCTAssertTrue(response.headers.allSatisfy { $0.name == $0.name.lowercased() })
        XCTAssertEqual(response.header("content-type"), "application/octet-stream")
    }

    func testBinaryAndEmptyBodiesRoundTripExactly() throws {
        let server = try TestHTTPServer()
        defer { server.stop() }
        let client = try HTTPClient()
        // NUL bytes would cut a C string short; 4 KiB is past curl's Expect: 100-continue
        // threshold.
        let binary = (0..<4096).map { UInt8(truncatingIfNeeded: $0) }

        let results = client.performAll([
            HTTPRequest(url: server.url(), body: binary),
            HTTPRequest(url: server.url(), body: []),
            HTTPRequest(url: server.url(), method: "PUT", body: [0, 1, 2]),
            HTTPRequest(url: server.url(), method: "GET"),
        ])

        let binaryResponse = try results[0].get()
        XCTAssertEqual(binaryResponse.body, binary)
        XCTAssertNil(binaryResponse.header("x-echo-expect"))
        let emptyResponse = try results[1].get()
        XCTAssertEqual(emptyResponse.body, [])
        XCTAssertEqual(emptyResponse.header("x-echo-method"), "POST")
        XCTAssertEqual(emptyResponse.header("x-echo-content-length"), "0")
        let putResponse = try results[2].get()
        XCTAssertEqual(putResponse.header("x-echo-method"), "PUT")
        XCTAssertEqual(putResponse.body, [0, 1, 2])
        let getResponse = try results[3].get()
        XCTAssertEqual(getResponse.header("x-echo-method"), "GET")
        XCTAssertNil(getResponse.header("x-echo-content-length"))
    }

    func testKeepAliveConnectionsAreReusedAcrossRounds() throws {
        let server = try TestHTTPServer()
        defer { server.stop() }
        let client = try HTTPClient()
        let requests = (0..<50).map { HTTPRequest(url: server.url(), body: Array("message \($0)".utf8)) }

        let firstRound = client.performAll(requests)
        let connectionsAfterFirstRound = server.acceptedConnectionCount
        let secondRound = client.performAll(requests)
        let connectionsOpenedBySecondRound = server.acceptedConnectionCount - connectionsAfterFirstRound

        for round in [firstRound, secondRound] {
            XCTAssertEqual(round.count, 50)
            for (index, result) in round.enumerated() {
                XCTAssertEqual(try result.get().bodyText, "message \(index)", "results come back in request order")
            }
        }
        XCTAssertLessThanOrEqual(connectionsAfterFirstRound, 50)
        XCTAssertLessThanOrEqual(connectionsOpenedBySecondRound, 2, "idle connections from round one are reused")
        XCTAssertLessThanOrEqual(server.acceptedConnectionCount, 52, "100 requests, far fewer connections")
    }

    func testConnectionsPerHostAreLimited() throws {
        let server = try TestHTTPServer()
        defer { server.stop() }
        let client = try HTTPClient(maxConnectionsPerHost: 2)
        let requests = (0..<10).map { _ in
            HTTPRequest(url: server.url(), headers: [HTTPHeader(name: "X-Test-Delay-Ms", value: "20")])
        }

        let results = client.performAll(requests)

        XCTAssertEqual(results.filter { (try? $0.get().status) == 200 }.count, 10)
        XCTAssertLessThanOrEqual(server.acceptedConnectionCount, 2)
    }

    func testSlowServerGivesTimedOut() throws {
        let server = try TestHTTPServer()
        defer { server.stop() }
        let client = try HTTPClient()
        let request = HTTPRequest(
            url: server.url(), headers: [HTTPHeader(name: "X-Test-Delay-Ms", value: "2000")],
            timeoutMilliseconds: 200)

        let result = try XCTUnwrap(client.performAll([request]).first)

        XCTAssertEqual(result.failure, .timedOut)
    }

    func testRefusedPortGivesConnectionFailed() throws {
        let port = try TestHTTPServer.unusedPort()
        let client = try HTTPClient()

        let result = try XCTUnwrap(client.performAll([HTTPRequest(url: "http://127.0.0.1:\(port)/")]).first)

        guard case .connectionFailed(let message) = result.failure else {
            return XCTFail("expected .connectionFailed, got \(result)")
        }
        XCTAssertTrue(message.contains("\(port)"), "curl's error buffer names the port: \(message)")
    }

    func testServerErrorStatusIsASuccessResult() throws {
        let server = try TestHTTPServer()
        defer { server.stop() }
        let client = try HTTPClient()
        let request = HTTPRequest(
            url: server.url(), headers: [HTTPHeader(name: "X-Test-Status", value: "500")],
            body: Array("provider down".utf8))

        let response = try XCTUnwrap(client.performAll([request]).first).get()

        XCTAssertEqual(response.status, 500)
        XCTAssertEqual(response.bodyText, "provider down")
    }

    func testRedirectIsReturnedNotFollowed() throws {
        let server = try TestHTTPServer()
        defer { server.stop() }
        let client = try HTTPClient()
        let request = HTTPRequest(
            url: server.url("/old"),
            headers: [
                HTTPHeader(name: "X-Test-Status", value: "302"),
                HTTPHeader(name: "X-Test-Location", value: server.url("/new")),
            ])

        let response = try XCTUnwrap(client.performAll([request]).first).get()

        XCTAssertEqual(response.status, 302)
        XCTAssertEqual(response.header("location"), server.url("/new"))
        XCTAssertEqual(server.acceptedConnectionCount, 1)
    }

    func testStreamingReturnsEveryTagExactlyOnce() throws {
        let server = try TestHTTPServer()
        defer { server.stop() }
        let refusedPort = try TestHTTPServer.unusedPort()
        let client = try HTTPClient()
        let successfulTags = 0..<20
        for tag in successfulTags {
            client.start(
                HTTPRequest(
                    url: server.url(), headers: [HTTPHeader(name: "X-Test-Delay-Ms", value: "\(tag % 4 * 30)")],
                    body: Array("tag \(tag)".utf8)), tag: tag)
        }
        client.start(HTTPRequest(url: "http://127.0.0.1:\(refusedPort)/"), tag: 100)
        client.start(HTTPRequest(url: "ftp://127.0.0.1/"), tag: 101)
        XCTAssertEqual(client.inFlight, 22)

        var timesSeen: [Int: Int] = [:]
        for _ in 0..<300 where client.inFlight > 0 {
            for completion in client.poll(timeoutMilliseconds: 100) {
                timesSeen[completion.tag, default: 0] += 1
                if successfulTags.contains(completion.tag) {
                    XCTAssertEqual(try completion.result.get().bodyText, "tag \(completion.tag)")
                }
                XCTAssertGreaterThanOrEqual(completion.elapsedMilliseconds, 0)
            }
        }

        XCTAssertEqual(client.inFlight, 0)
        XCTAssertEqual(Set(timesSeen.keys), Set(successfulTags).union([100, 101]))
        XCTAssertTrue(timesSeen.values.allSatisfy { $0 == 1 }, "\(timesSeen)")
        XCTAssertEqual(client.poll(timeoutMilliseconds: 10_000).count, 0, "nothing in flight: returns at once")
    }

    func testPerformAllLeavesStartedTransfersToPoll() throws {
        let server = try TestHTTPServer()
        defer { server.stop() }
        let client = try HTTPClient()
        client.start(HTTPRequest(url: server.url(), body: Array("streamed".utf8)), tag: 7)

        let batch = client.performAll([HTTPRequest(url: server.url(), headers: [HTTPHeader(name: "X-Test-Delay-Ms", value: "50")])])

        XCTAssertEqual(try batch.first?.get().status, 200)
        var streamed: [HTTPCompletion] = []
        for _ in 0..<100 where client.inFlight > 0 {
            streamed += client.poll(timeoutMilliseconds: 100)
        }
        XCTAssertEqual(streamed.map(\.tag), [7])
        XCTAssertEqual(try streamed.first?.result.get().bodyText, "streamed")
    }

    func testPerformAllKeepsOrderAcrossMixedOutcomes() throws {
        let server = try TestHTTPServer()
        defer { server.stop() }
        let refusedPort = try TestHTTPServer.unusedPort()
        let client = try HTTPClient()

        let results = client.performAll([
            HTTPRequest(url: "http://127.0.0.1:\(refusedPort)/"),
            HTTPRequest(url: server.url(), body: Array("ok".utf8)),
            HTTPRequest(url: server.url(), timeoutMilliseconds: 0),
            HTTPRequest(url: server.url(), headers: [HTTPHeader(name: "X-Test-Status", value: "404")]),
        ])

        XCTAssertEqual(results.count, 4)
        guard case .connectionFailed = results[0].failure else { return XCTFail("\(results[0])") }
        XCTAssertEqual(try results[1].get().bodyText, "ok")
        guard case .invalidArgument = results[2].failure else { return XCTFail("\(results[2])") }
        XCTAssertEqual(try results[3].get().status, 404)
        XCTAssertEqual(client.performAll([]).count, 0)
    }

    func testOnlyHTTPAndHTTPSAreAllowed() throws {
        let client = try HTTPClient()

        let results = client.performAll([
            HTTPRequest(url: "file:///etc/passwd", method: "GET"),
            HTTPRequest(url: "ftp://127.0.0.1/"),
            HTTPRequest(url: "not a url"),
        ])

        for result in results {
            guard case .invalidArgument = result.failure else { return XCTFail("expected .invalidArgument, got \(result)") }
        }
    }

    func testHeaderInjectionIsRejectedBeforeSending() throws {
        let server = try TestHTTPServer()
        defer { server.stop() }
        let client = try HTTPClient()

        let results = client.performAll([
            HTTPRequest(url: server.url(), headers: [HTTPHeader(name: "X-Note", value: "a\r\nX-Injected: 1")]),
            HTTPRequest(url: server.url(), headers: [HTTPHeader(name: "Bad Name", value: "x")]),
            HTTPRequest(url: server.url(), method: "POST /evil"),
        ])

        for result in results {
            guard case .invalidArgument = result.failure else { return XCTFail("expected .invalidArgument, got \(result)") }
        }
        XCTAssertEqual(server.acceptedConnectionCount, 0)
    }

    func testEmptyHeaderValueIsSentEmpty() throws {
        let server = try TestHTTPServer()
        defer { server.stop() }
        let client = try HTTPClient()

        let response = try XCTUnwrap(
            client.performAll([
                HTTPRequest(url: server.url(), headers: [HTTPHeader(name: "X-Empty", value: "")])
            ]).first
        ).get()

        XCTAssertEqual(response.header("x-echo-x-empty"), "")
    }

    func testDroppingClientWithTransfersInFlightFreesThem() throws {
        let server = try TestHTTPServer()
        defer { server.stop() }
        do {
            let client = try HTTPClient()
            for tag in 0..<5 {
                client.start(HTTPRequest(url: server.url(), headers: [HTTPHeader(name: "X-Test-Delay-Ms", value: "5000")]), tag: tag)
            }
            _ = client.poll(timeoutMilliseconds: 50)
            XCTAssertEqual(client.inFlight, 5)
        }
        // deinit removed and freed every easy handle and the multi handle; a second client
        // works as before.
        let response = try XCTUnwrap(try HTTPClient().performAll([HTTPRequest(url: server.url())]).first).get()
        XCTAssertEqual(response.status, 200)
    }

    func testInvalidConnectionLimitsThrow() {
        XCTAssertThrowsError(try HTTPClient(maxConnectionsPerHost: 0))
        XCTAssertThrowsError(try HTTPClient(maxTotalConnections: -1))
    }

    func testClientsOnSeveralThreadsInitializeCurlSafely() throws {
        let server = try TestHTTPServer()
        defer { server.stop() }
        let url = server.url()
        let finished = expectation(description: "all threads answered")
        finished.expectedFulfillmentCount = 4
        for _ in 0..<4 {
            DispatchQueue.global().async {
                let status = try? HTTPClient().performAll([HTTPRequest(url: url)]).first?.get().status
                XCTAssertEqual(status, 200)
                finished.fulfill()
            }
        }
        wait(for: [finished], timeout: 30)
    }
}

extension Result {
    /// The error of a `.failure`, `nil` for a `.success`.
    fileprivate var failure: Failure? {
        if case .failure(let error) = self { return error }
        return nil
    }

    func testBodyLargerThanTheLimitIsCutOffAsResponseTooLarge() throws {
        let server = try TestHTTPServer()
        defer { server.stop() }
        let client = try HTTPClient()
        // The server echoes the body: 100 KiB back against a 64 KiB limit.
        let big = HTTPRequest(url: server.url(), body: Array(repeating: 0x61, count: 100 * 1024), maximumResponseBytes: 64 * 1024)
        let fits = HTTPRequest(url: server.url(), body: Array(repeating: 0x61, count: 60 * 1024), maximumResponseBytes: 64 * 1024)
        let results = client.performAll([big, fits])
        XCTAssertEqual(results[0], .failure(.responseTooLarge(limit: 64 * 1024)))
        XCTAssertEqual(try results[1].get().body.count, 60 * 1024)
    }

    func testHeadersLargerThanTheLimitAreCutOffAsResponseTooLarge() throws {
        let server = try TestHTTPServer()
        defer { server.stop() }
        let client = try HTTPClient()
        // Every request header comes back as X-Echo-…: 8 KiB of them against a 4 KiB limit.
        let headers = (0..<8).map { HTTPHeader(name: "X-Pad-\($0)", value: String(repeating: "h", count: 1024)) }
        let result = client.performAll([HTTPRequest(url: server.url(), headers: headers, maximumResponseBytes: 4096)])[0]
        XCTAssertEqual(result, .failure(.responseTooLarge(limit: 4096)))
    }

    func testNonPositiveResponseLimitIsRejected() throws {
        let client = try HTTPClient()
        guard case .failure(.invalidArgument)? = client.performAll([HTTPRequest(url: "http://127.0.0.1:9/", maximumResponseBytes: 0)]).first else {
            return XCTFail("a request without a response limit must be refused")
        }
    }
}
