import Glibc
import TextingDomain
import TextingPostgres
import TextingService
import TextingStore
import TextingSupport

// textingctl: the operator's command line: migrations, API keys, numbers, messages, figures
// and pruning. Each command is one call into Common; this file only wires and prints.
ProgramCatalog.textingctl.handleCommandLine()
let environment = EnvironmentReader()

func connection() throws -> PostgresConnection {
    let connection = try ServiceConfiguration.databaseConnection(environment)()
    try connection.open()
    return connection
}

func fail(_ message: String, status: Int32 = 1) -> Never {
    Log.error(message)
    exit(status)
}

let command: AdminCommand
do {
    command = try AdminCommand.parse(Array(CommandLine.arguments.dropFirst()))
} catch {
    fail(error.message, status: 2)
}

do {
    switch command {
    case .migrate:
        let directory = try ServiceSettings.migrationsDirectory.read(environment)
        let migrations = try Migrator.load(directory: directory)
        let applied = try Migrator(connection: try connection()).apply(migrations)
        print(applied.isEmpty ? "migrations: up to date" : "migrations: applied \(applied.joined(separator: ", "))")
    case .keysCreate(let name):
        let (key, secret) = try APIKeyStore(connection: try connection()).create(name: name)
        // The key alone on stdout, so that scripts can capture it; the rest on stderr.
        print(secret)
        Log.info("created API key \(key.publicID) (\(key.name)); store it now: it cannot be shown again")
    case .keysList:
        print(["id", "name", "prefix", "created_at", "revoked_at"].joined(separator: "\t"))
        for key in try APIKeyStore(connection: try connection()).list() {
            print([key.publicID, key.name, key.prefix + "…", key.createdAt, key.revokedAt ?? "-"].joined(separator: "\t"))
        }
    case .keysRevoke(let id):
        guard try APIKeyStore(connection: try connection()).revoke(publicID: id) else {
            fail("no active key has the id \(id)")
        }
        print("revoked \(id)")
    case .numbersReactivate(let typed):
        let number: PhoneNumber
        do {
            number = try PhoneNumber(parsing: typed, defaultCountryCode: try ServiceSettings.defaultCountryCode.read(environment))
        } catch let error as ValidationError {
            fail("numbers reactivate: \(error.detail)", status: 2)
        }
        // The operator typed the number: echoing it on stdout is fine; logs never show it.
        switch try PhoneNumberReactivation(connection: try connection()).reactivate(number) {
        case .reactivated:
            print(
                "reactivated \(number.e164): new messages to it are accepted again (its failed messages stay failed; `textingctl messages requeue ID` sends one again)"
            )
        case .alreadyActive:
            print("\(number.e164) is already active: nothing changed")
        case .unknownNumber:
            fail("no message was ever accepted for that number: nothing to reactivate")
        }
    case .messagesRequeue(let id):
        let shown = id.uuidString.lowercased()
        switch try MessageRequeue(connection: try connection()).requeue(id: id) {
        case .requeued:
            print("requeued \(shown): queued again with a new job, attempts reset")
        case .notFound:
            fail("no message has the id \(shown)")
        case .refused(let reason):
            fail("message \(shown) not requeued: \(reason)")
        }
    case .stats:
        print(try MetricsStore(connection: try connection()).snapshot().report)
    case .prune:
        print(try Pruning(connection: try connection()).prune().summary)
    case .sql(nil):
        print(NamedQueries.all.map(\.name).sorted().joined(separator: "\n"))
    case .settings(.table):
        print(ServiceSettings.markdownTable, terminator: "")
    case .settings(.example):
        print(ServiceSettings.exampleFile, terminator: "")
    case .sql(let name?):
        guard let query = NamedQueries.named(name) else { fail("no statement is called \(name); `textingctl sql` lists them", status: 2) }
        print(query.sql)
    }
} catch {
    fail("\(error)")
}
