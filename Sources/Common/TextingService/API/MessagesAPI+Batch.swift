import TextingDomain
import TextingFastCGI
import TextingPostgres
import TextingStore
import TextingSupport

extension MessagesAPI {
    /// A request body is at most 16 KiB (a message is at most 1600 characters), a batch's
    /// 1 MiB: a thousand messages of ordinary length. The shipped nginx site says the same.
    public static let bodyLimits = BodyLimits(standard: 16 * 1024, larger: ["/messages/batch": 1024 * 1024])

    /// `POST /messages/batch`: up to 1,000 messages in one request and one transaction (with
    /// whatever else the group commit has waiting), answered 200 with one result per message
    /// in order: 201 and the message as stored, or the problem that message met (422, 429).
    /// One `Idempotency-Key` covers the batch: its answer is kept and given again.
    func createBatch(_ request: HTTPServerRequest, owner: Int64, connection: PostgresConnection) throws -> HTTPServerResponse {
        let json = try request.jsonObject()
        let batch = try Problem.validating { () throws(ValidationError) in
            try NewMessageBatch(json: json, defaultCountryCode: defaultCountryCode, webhookRules: webhookRules)
        }
        let idempotencyKey = try Self.idempotencyKey(request)
        // Each message checked alone; those that pass are stored together.
        var results: [BatchResult?] = Array(repeating: nil, count: batch.items.count)
        var accepting: [(index: Int, message: NewMessage)] = []
        var keySecret = KeySecretCheck(owner: owner)
        for (index, item) in batch.items.enumerated() {
            do {
                let message = try item.get()
                try check(message, keySecret: &keySecret, connection: connection)
                accepting.append((index, message))
            } catch let error as ValidationError {
                results[index] = .refused(Problem(error))
            } catch let problem as Problem {
                results[index] = .refused(problem)
            }
        }
        let acceptances = accepting.map { MessageStore.Acceptance($0.message, owner: owner) }
        guard let idempotencyKey else {
            let outcomes = acceptor.accept(acceptances)
            // The whole batch failed the same way (the database down): the request did.
            if !outcomes.isEmpty, outcomes.allSatisfy({ if case .failure = $0 { true } else { false } }), case .failure(let error) = outcomes[0] {
                throw error
            }
            for ((index, message), outcome) in zip(accepting, outcomes) {
                results[index] = try result(outcome, message, requestID: request.requestID)
            }
            return .json(200, Self.document(results.map { $0! }, requestID: request.requestID))
        }
        let fingerprint = Digest.sha256Hex(Array("batch\n".utf8) + JSONValue.object(json).serialized())
        return try connection.transaction { connection in
            let idempotency = IdempotencyStore(connection: connection)
            switch try idempotency.claim(owner: owner, key: idempotencyKey, fingerprint: fingerprint) {
            case .differentRequest, .sameRequest:
                throw Self.idempotencyKeyReused
            case .sameBatch(let response):
                return HTTPServerResponse(
                    status: 200, headers: [("Content-Type", "application/json; charset=utf-8"), ("Idempotent-Replayed", "true")],
                    body: Array(response.utf8))
            case .none:
                // On this connection, in the transaction that holds the key: the batch and its
                // answer are committed together.
                let outcomes = acceptances.isEmpty ? [] : try MessageStore(connection: connection).accept(acceptances)
                for ((index, message), outcome) in zip(accepting, outcomes) {
                    results[index] = try result(.success(outcome), message, requestID: request.requestID)
                }
                let document = Self.document(results.map { $0! }, requestID: request.requestID)
                let body = document.serialized()
                try idempotency.complete(owner: owner, key: idempotencyKey, response: String(decoding: body, as: UTF8.self))
                return HTTPServerResponse(status: 200, headers: [("Content-Type", "application/json; charset=utf-8")], body: body)
            }
        }
    }

    /// One message's result.
    enum BatchResult {
        case accepted(MessageRecord)
        case refused(Problem)
    }

    /// What one message's acceptance came to. A revoked key refuses the whole request (401);
    /// a database error that only this message met (the batch was retried message by message)
    /// is its own 503 or 500.
    private func result(_ outcome: Result<MessageStore.Outcome, PostgresError>, _ message: NewMessage, requestID: String?) throws -> BatchResult {
        switch outcome {
        case .success(.accepted(let record)):
            return .accepted(record)
        case .success(.keyRevoked):
            throw Self.invalidKey
        case .success(let refusal):
            return .refused(Self.refusal(refusal, message))
        case .failure(let error):
            Log.error("request \(requestID ?? "-"): batch message: \(error)")
            return .refused(Problem(error) ?? Problem(.internalError, "The database refused this message; it was not stored."))
        }
    }

    /// `{"accepted": n, "refused": m, "results": [...]}`: each result has `index`, `status`,
    /// and `message` (201) or `problem` (with `retry_after` seconds for a 429).
    static func document(_ results: [BatchResult], requestID: String?) -> JSONValue {
        var accepted = 0
        let items: [JSONValue] = results.enumerated().map { index, result in
            switch result {
            case .accepted(let record):
                accepted += 1
                return ["index": .number(Double(index)), "status": 201, "message": record.json]
            case .refused(let problem):
                var item: [String: JSONValue] = [
                    "index": .number(Double(index)), "status": .number(Double(problem.code.status)), "problem": problem.document(requestID: requestID),
                ]
                if let retryAfter = problem.headers.first(where: { $0.name == "Retry-After" }).flatMap({ Double($0.value) }) {
                    item["retry_after"] = .number(retryAfter)
                }
                return .object(item)
            }
        }
        return ["accepted": .number(Double(accepted)), "refused": .number(Double(results.count - accepted)), "results": .array(items)]
    }
}
