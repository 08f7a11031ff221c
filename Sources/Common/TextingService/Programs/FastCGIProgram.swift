import Glibc
import TextingFastCGI
import TextingPostgres
import TextingSupport

/// The `main` of a FastCGI program whose worker threads each hold their own database
/// connection: MessagesFCGI and DeliveryFCGI differ only in their handler.
public enum FastCGIProgram {
    /// A request handler, given the worker's own connection.
    public typealias Handler = @Sendable (PostgresConnection, HTTPServerRequest) throws -> HTTPServerResponse

    /// Answers `--help` and `--version` from `program`, reads the shared settings
    /// (`TEXTING_DATABASE_URL`, where to listen: `FastCGISettings.listener`, the thread count `threads`) and
    /// `makeHandler`'s own, reads bodies up to `bodyLimits`, serves until SIGTERM (a second one during the drain is ignored), and exits; a bad setting ends the process
    /// with one line naming it.
    public static func run(
        _ program: ProgramDescription, bodyLimits: BodyLimits = BodyLimits(), threads: Setting<Int> = ServiceSettings.fastCGIThreads,
        _ makeHandler: (EnvironmentReader) throws -> Handler
    ) -> Never {
        // Before anything starts a thread (makeHandler's group-commit committers): threads
        // inherit the mask, and one without it could take a SIGTERM and die of it.
        StopSignals.block()
        program.handleCommandLine()
        let environment = EnvironmentReader()
        do {
            let makeConnection = try ServiceConfiguration.databaseConnection(environment)
            let handler = try makeHandler(environment)
            let server = FastCGIServer(
                listener: try FastCGISettings.listener(environment),
                threadCount: try threads.read(environment),
                bodyLimits: bodyLimits,
                makeContext: makeConnection,
                handler: { connection, request in try answeringDatabaseErrors(request) { try handler(connection, request) } })
            try server.run()
            exit(0)
        } catch {
            Log.error("\(error)")
            exit(1)
        }
    }

    /// A transient database error (unreachable, busy) becomes its 503 problem document; any
    /// other error goes on to the server's 500.
    static func answeringDatabaseErrors(_ request: HTTPServerRequest, _ body: () throws -> HTTPServerResponse) throws -> HTTPServerResponse {
        do {
            return try body()
        } catch let error as PostgresError {
            guard let problem = Problem(error) else { throw error }
            Log.error("request \(request.requestID ?? "-"): \(error)")
            return .problem(problem, requestID: request.requestID)
        }
    }
}
