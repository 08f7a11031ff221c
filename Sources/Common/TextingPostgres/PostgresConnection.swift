import CPostgres
import Glibc
import TextingSupport

/// One libpq connection, owned by one thread at a time. It connects lazily, notices when the
/// server went away while it was idle (a restart, a failover) and reconnects before the next
/// statement, so a restart costs no request an error.
public final class PostgresConnection {
    private var handle: OpaquePointer?
    private let conninfo: String
    /// Named prepared statements: each query is parsed and planned once per connection
    /// instead of on every call. Off for poolers that cannot keep them (PgBouncer before
    /// 1.21 in transaction mode).
    private let usesPreparedStatements: Bool
    /// The queries prepared on the current server connection; emptied on reconnect.
    private var prepared: Set<String> = []
    /// The timeouts and keepalives set on every connection.
    private let session: PostgresSession

    /// A connection for a libpq connection string (`host=… dbname=…` or a `postgresql://`
    /// URI), with `session`'s limits. It connects on first use, so a process starts while the
    /// database is down and answers 503 until it is back.
    public init(conninfo: String, preparedStatements: Bool = true, session: PostgresSession = PostgresSession()) {
        self.conninfo = conninfo
        usesPreparedStatements = preparedStatements
        self.session = session
    }

    /// Connects now if not connected, to check the settings at start-up.
    public func open() throws(PostgresError) {
        try ensureUsable()
    }

    deinit {
        if let handle { PQfinish(handle) }
    }

    /// The corresponding C function is `PQconnectdbParams`: the connection string is expanded
    /// (`expand_dbname`), then the session's keywords follow and win.
    private func connect() throws(PostgresError) {
        if let handle {
            PQfinish(handle)
            self.handle = nil
        }
        prepared.removeAll()
        let parameters = [("dbname", conninfo)] + session.connectionParameters
        let connection = Self.withCStrings(parameters.map { $0.0 } + [nil]) { keywords in
            Self.withCStrings(parameters.map { $0.1 } + [nil]) { values in
                PQconnectdbParams(keywords, values, 1)
            }
        }
        guard let connection, PQstatus(connection) == CONNECTION_OK else {
            let message = connection.map { Self.errorMessage($0) } ?? "out of memory"
            if let connection { PQfinish(connection) }
            throw PostgresError(kind: .connection, sqlState: nil, message: message, queryName: nil)
        }
        // Server notices (e.g. "relation already exists, skipping") are not errors: keep
        // them off stderr.
        PQsetNoticeProcessor(connection, { _, _ in }, nil)
        handle = connection
    }

    private static func errorMessage(_ connection: OpaquePointer) -> String {
        String(cString: PQerrorMessage(connection)).trimmed
    }

    /// Reconnects when the connection is known to be broken, or when the server closed it
    /// while it sat idle (the socket is readable although no query is outstanding).
    private func ensureUsable() throws(PostgresError) {
        guard let connection = handle else { return try connect() }
        if PQstatus(connection) != CONNECTION_OK { return try connect() }
        guard PQtransactionStatus(connection) == PQTRANS_IDLE else { return }
        // A server that shut down sends FATAL and then closes: reading the message leaves the
        // connection looking fine, only reading the end of the stream breaks it. Bounded, as
        // a stream of notifications keeps the socket readable too.
        for _ in 0..<4 {
            var descriptor = pollfd(fd: PQsocket(connection), events: Int16(POLLIN), revents: 0)
            guard poll(&descriptor, 1, 0) > 0 else { return }
            if PQconsumeInput(connection) == 0 || PQstatus(connection) != CONNECTION_OK {
                return try connect()
            }
        }
    }

    /// Runs one parameterised statement; parameters travel separately from the SQL, in text
    /// format. The corresponding C functions are `PQprepare` and `PQexecPrepared`, or
    /// `PQexecParams` without prepared statements and for a query planned at each execution
    /// (`Query.Planning`).
    @discardableResult
    public func execute(_ query: Query, _ parameters: [String?] = []) throws(PostgresError) -> PostgresResult {
        // libpq takes C strings: a NUL would silently cut a value short (an array literal
        // then fails to parse, or worse, a shorter value is stored).
        if let index = parameters.firstIndex(where: { $0?.utf8.contains(0) == true }) {
            throw PostgresError(
                kind: .invalidParameter, sqlState: nil,
                message: "parameter $\(index + 1) holds a NUL byte, which PostgreSQL text cannot carry", queryName: query.name)
        }
        try ensureUsable()
        guard let connection = handle else { throw unavailable(query) }
        guard usesPreparedStatements, query.planning == .prepared else {
            let result = Self.withCStrings(parameters) { pointers in
                PQexecParams(connection, query.sql, Int32(parameters.count), nil, pointers, nil, nil, 0)
            }
            return try consume(result, query: query.name, connection: connection)
        }
        do {
            return try executePrepared(query, parameters, connection: connection)
        } catch let error where error.sqlState == "26000" {
            // The server forgot the statement (a pooler switched connections, DISCARD ALL):
            // it did not run, so preparing it again and retrying once is safe.
            prepared.removeAll()
            return try executePrepared(query, parameters, connection: connection)
        }
    }

    private func executePrepared(_ query: Query, _ parameters: [String?], connection: OpaquePointer) throws(PostgresError) -> PostgresResult {
        if !prepared.contains(query.name) {
            _ = try consume(PQprepare(connection, query.name, query.sql, Int32(parameters.count), nil), query: query.name, connection: connection)
            prepared.insert(query.name)
        }
        let result = Self.withCStrings(parameters) { pointers in
            PQexecPrepared(connection, query.name, Int32(parameters.count), pointers, nil, nil, 0)
        }
        return try consume(result, query: query.name, connection: connection)
    }

    /// Runs trusted SQL text that may hold several statements (a migration file). Never pass
    /// it anything a client sent. The corresponding C function is `PQexec`.
    public func executeScript(_ sql: String, name: String) throws(PostgresError) {
        try ensureUsable()
        guard let connection = handle else { throw unavailable(Query(name, sql)) }
        _ = try consume(PQexec(connection, sql), query: name, connection: connection)
    }

    /// Runs `body` inside `BEGIN … COMMIT`; any error rolls back and is rethrown. Called while
    /// a transaction is already open, `body` joins it: the outer transaction commits or rolls
    /// back both, so an operator's action and its audit entry (`OperatorActions`) are one.
    public func transaction<T>(_ body: (PostgresConnection) throws -> T) throws -> T {
        if let handle, PQstatus(handle) == CONNECTION_OK, PQtransactionStatus(handle) == PQTRANS_INTRANS {
            return try body(self)
        }
        try execute(Self.begin)
        do {
            let value = try body(self)
            try execute(Self.commit)
            return value
        } catch {
            if handle.map({ PQstatus($0) == CONNECTION_OK }) == true {
                _ = try? execute(Self.rollback)
            }
            throw error
        }
    }

    /// Runs `body` in a transaction like `transaction(_:)`, and runs it again (up to
    /// `retries` more times) when PostgreSQL ended it to break a deadlock or a serialization
    /// failure (`PostgresError.isConflict`): it was rolled back whole, so nothing is applied
    /// twice. `body` must do nothing outside the database that cannot be repeated.
    public func transaction<T>(retryingConflicts retries: Int, _ body: (PostgresConnection) throws -> T) throws -> T {
        try retryingConflicts(retries) { try transaction(body) }
    }

    /// Runs `body` (one statement in autocommit, or a whole `transaction`) and runs it again,
    /// up to `retries` more times, after a conflict (`PostgresError.isConflict`): what failed
    /// was rolled back whole.
    public func retryingConflicts<T>(_ retries: Int, _ body: () throws -> T) throws -> T {
        var attempt = 0
        while true {
            do {
                return try body()
            } catch let error as PostgresError where error.isConflict && attempt < retries {
                attempt += 1
                Log.warning("\(error); trying again (\(attempt) of \(retries))")
            }
        }
    }

    private static let begin = Query("transaction.begin", "BEGIN")
    private static let commit = Query("transaction.commit", "COMMIT")
    private static let rollback = Query("transaction.rollback", "ROLLBACK")

    /// Waits up to `timeoutMilliseconds` for a `NOTIFY` on a channel this connection
    /// `LISTEN`s to, and returns the channels notified (empty on timeout). The corresponding
    /// C functions are `PQconsumeInput` and `PQnotifies`.
    public func waitForNotifications(timeoutMilliseconds: Int) throws(PostgresError) -> [String] {
        try ensureUsable()
        guard let connection = handle else { throw unavailable(nil) }
        var channels = drainNotifications(connection)
        if !channels.isEmpty { return channels }
        var descriptor = pollfd(fd: PQsocket(connection), events: Int16(POLLIN), revents: 0)
        let ready = poll(&descriptor, 1, Int32(clamping: max(0, timeoutMilliseconds)))
        if ready > 0 {
            if PQconsumeInput(connection) == 0 {
                throw PostgresError(kind: .connection, sqlState: nil, message: Self.errorMessage(connection), queryName: "listen.wait")
            }
            channels = drainNotifications(connection)
        }
        return channels
    }

    private func drainNotifications(_ connection: OpaquePointer) -> [String] {
        var channels: [String] = []
        while let notification = PQnotifies(connection) {
            channels.append(String(cString: notification.pointee.relname))
            PQfreemem(notification)
        }
        return channels
    }

    private func unavailable(_ query: Query?) -> PostgresError {
        PostgresError(kind: .connection, sqlState: nil, message: "no connection to the database", queryName: query?.name)
    }

    /// Turns a `PGresult` into rows or a thrown error, and frees it exactly once.
    private func consume(_ result: OpaquePointer?, query: String, connection: OpaquePointer) throws(PostgresError) -> PostgresResult {
        guard let result else {
            throw PostgresError(
                kind: PQstatus(connection) == CONNECTION_OK ? .statement : .connection,
                sqlState: nil, message: Self.errorMessage(connection), queryName: query)
        }
        defer { PQclear(result) }
        switch PQresultStatus(result) {
        case PGRES_TUPLES_OK, PGRES_COMMAND_OK, PGRES_EMPTY_QUERY:
            break
        default:
            let sqlState = Self.field(result, texting_pg_diag_sqlstate())
            let message = Self.field(result, texting_pg_diag_message_primary()) ?? Self.errorMessage(connection)
            let broken = PQstatus(connection) != CONNECTION_OK
            throw PostgresError(
                kind: broken && sqlState == nil ? .connection : .statement,
                sqlState: sqlState, message: message, queryName: query,
                constraint: Self.field(result, texting_pg_diag_constraint_name()))
        }
        let columnCount = Int(PQnfields(result))
        let columns = (0..<columnCount).map { String(cString: PQfname(result, Int32($0))) }
        let rowCount = Int(PQntuples(result))
        var rows: [PostgresRow] = []
        rows.reserveCapacity(rowCount)
        for row in 0..<rowCount {
            let values: [String?] = (0..<columnCount).map { column in
                if PQgetisnull(result, Int32(row), Int32(column)) == 1 { return nil }
                return String(cString: PQgetvalue(result, Int32(row), Int32(column)))
            }
            rows.append(PostgresRow(columns: columns, values: values))
        }
        let affected = Int(String(cString: PQcmdTuples(result))) ?? 0
        return PostgresResult(rows: rows, affectedRows: affected)
    }

    private static func field(_ result: OpaquePointer, _ code: Int32) -> String? {
        PQresultErrorField(result, code).map { String(cString: $0) }
    }

    /// libpq takes `const char * const *`; the C strings live exactly as long as the call.
    private static func withCStrings<R>(_ strings: [String?], _ body: (UnsafePointer<UnsafePointer<CChar>?>?) -> R) -> R {
        let copies: [UnsafeMutablePointer<CChar>?] = strings.map { $0.map { strdup($0) } ?? nil }
        defer { for copy in copies { free(copy) } }
        let pointers = copies.map { UnsafePointer($0) }
        return pointers.withUnsafeBufferPointer { body($0.baseAddress) }
    }
}
