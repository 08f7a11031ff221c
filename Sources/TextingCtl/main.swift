import Common
import Glibc

// textingctl: the operator's command line. `textingctl migrate` applies pending migrations.
let environment = EnvironmentReader()
let arguments = Array(CommandLine.arguments.dropFirst())
let usage = """
    usage: textingctl migrate    apply the pending SQL migrations of TEXTING_MIGRATIONS_DIR (default ./migrations)
    """
do {
    switch arguments.first {
    case "migrate":
        let connection = PostgresConnection(conninfo: try ServiceConfiguration.databaseURL(environment))
        let directory = environment.string("TEXTING_MIGRATIONS_DIR", default: "migrations")
        let applied = try Migrator(connection: connection).apply(try Migrator.load(directory: directory))
        print(applied.isEmpty ? "migrations: up to date" : "migrations: applied \(applied.joined(separator: ", "))")
    default:
        print(usage)
        exit(arguments.isEmpty || arguments.first == "help" || arguments.first == "--help" ? 0 : 2)
    }
} catch {
    Log.error("\(error)")
    exit(1)
}
