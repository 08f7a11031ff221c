import Common
import Glibc

// textingctl: the operator's command line: migrations and API keys.
let usage = """
    usage: textingctl migrate                apply the pending SQL migrations of TEXTING_MIGRATIONS_DIR (default ./migrations)
           textingctl keys create NAME       make an API key; prints it once (only its hash is stored)
           textingctl keys list              list keys: id, name, prefix, created, revoked
           textingctl keys revoke ID         revoke the key with that id: its requests get 401 from then on
    Settings come from the environment (TEXTING_DATABASE_URL, …), as for the services.
    """

let environment = EnvironmentReader()
let arguments = Array(CommandLine.arguments.dropFirst())

func connection() throws -> PostgresConnection {
    let connection = PostgresConnection(conninfo: try ServiceConfiguration.databaseURL(environment))
    try connection.open()
    return connection
}

func fail(_ message: String, status: Int32 = 2) -> Never {
    Log.error(message)
    exit(status)
}

do {
    switch (arguments.first, arguments.dropFirst().first) {
    case ("migrate"?, nil):
        let directory = environment.string("TEXTING_MIGRATIONS_DIR", default: "migrations")
        let migrations = try Migrator.load(directory: directory)
        let applied = try Migrator(connection: try connection()).apply(migrations)
        print(applied.isEmpty ? "migrations: up to date" : "migrations: applied \(applied.joined(separator: ", "))")
    case ("keys"?, "create"?):
        let name = arguments.dropFirst(2).joined(separator: " ").trimmed
        guard (1...100).contains(name.count) else { fail("keys create needs a name of 1 to 100 characters, e.g. `textingctl keys create billing-service`") }
        let (key, secret) = try APIKeyStore(connection: try connection()).create(name: name)
        // The key alone on stdout, so that scripts can capture it; the rest on stderr.
        print(secret)
        Log.info("created API key \(key.publicID) (\(key.name)); store it now: it cannot be shown again")
    case ("keys"?, "list"?):
        print(["id", "name", "prefix", "created_at", "revoked_at"].joined(separator: "\t"))
        for key in try APIKeyStore(connection: try connection()).list() {
            print([key.publicID, key.name, key.prefix + "…", key.createdAt, key.revokedAt ?? "-"].joined(separator: "\t"))
        }
    case ("keys"?, "revoke"?):
        guard arguments.count == 3 else { fail("keys revoke needs the key's id (see `textingctl keys list`)") }
        guard try APIKeyStore(connection: try connection()).revoke(publicID: arguments[2]) else {
            fail("no active key has the id \(arguments[2])", status: 1)
        }
        print("revoked \(arguments[2])")
    case (nil, _), ("help"?, _), ("--help"?, _), ("-h"?, _):
        print(usage)
    default:
        print(usage)
        exit(2)
    }
} catch {
    Log.error("\(error)")
    exit(1)
}
