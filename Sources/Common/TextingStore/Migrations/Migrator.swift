import FoundationEssentials
import TextingPostgres
import TextingSupport

/// Applies the numbered SQL files of a folder (`0001_initial.sql`, …) that the database has
/// not seen yet, each in its own transaction, recorded in `schema_migrations`. A session
/// advisory lock keeps two migrators (two hosts starting at once) from racing; applying
/// twice changes nothing. A file that was applied and then edited is refused: history is
/// never rewritten, a new file is added instead.
public struct Migrator {
    /// A migration file: its number, name and SQL text.
    public struct Migration: Sendable, Equatable {
        public let version: Int
        public let name: String
        public let sql: String
    }

    /// Arbitrary but fixed: the advisory lock key every migrator agrees on.
    static let lockKey = "7305182233000001"

    private let connection: PostgresConnection

    public init(connection: PostgresConnection) {
        self.connection = connection
    }

    /// Reads `NNNN_name.sql` files from `directory`, sorted by number; rejects duplicates.
    public static func load(directory: String) throws(ConfigurationError) -> [Migration] {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory)
        } catch {
            throw ConfigurationError(setting: "TEXTING_MIGRATIONS_DIR", problem: "cannot read \(directory)")
        }
        var migrations: [Migration] = []
        for name in names where name.hasSuffix(".sql") {
            guard let version = name.split(separator: "_").first.flatMap({ Int($0) }) else {
                throw ConfigurationError(setting: "TEXTING_MIGRATIONS_DIR", problem: "\(name) does not start with a number, e.g. 0002_add_index.sql")
            }
            guard let data = FileManager.default.contents(atPath: directory + "/" + name),
                let sql = String(validating: data, as: UTF8.self)
            else {
                throw ConfigurationError(setting: "TEXTING_MIGRATIONS_DIR", problem: "cannot read \(name) as UTF-8")
            }
            migrations.append(Migration(version: version, name: name, sql: sql))
        }
        migrations.sort { $0.version < $1.version }
        for (a, b) in zip(migrations, migrations.dropFirst()) where a.version == b.version {
            throw ConfigurationError(setting: "TEXTING_MIGRATIONS_DIR", problem: "\(a.name) and \(b.name) share number \(a.version)")
        }
        return migrations
    }

    /// Applies what is pending and returns the names applied (empty when up to date).
    public func apply(_ migrations: [Migration]) throws -> [String] {
        // The service's timeouts are for requests: a migrator waits for another one's lock,
        // and a migration may rewrite a big table.
        try connection.execute(Self.noTimeouts)
        try connection.execute(Self.lock, [Self.lockKey])
        defer { _ = try? connection.execute(Self.unlock, [Self.lockKey]) }
        try connection.execute(Self.createTable)
        var applied: [Int: String] = [:]
        for row in try connection.execute(Self.listApplied).rows {
            applied[try row.int("version")] = try row.string("checksum")
        }
        var done: [String] = []
        for migration in migrations {
            let checksum = Digest.sha256Hex(Array(migration.sql.utf8))
            if let recorded = applied[migration.version] {
                guard recorded == checksum else {
                    throw MigrationError(name: migration.name, problem: "was edited after it was applied; add a new migration instead")
                }
                continue
            }
            try connection.transaction { connection in
                try connection.executeScript(migration.sql, name: "migration \(migration.name)")
                try connection.execute(Self.record, [String(migration.version), migration.name, checksum])
            }
            done.append(migration.name)
        }
        return done
    }

    static let lock = Query("migrations.lock", "SELECT pg_advisory_lock($1::bigint)")
    static let unlock = Query("migrations.unlock", "SELECT pg_advisory_unlock($1::bigint)")
    static let createTable = Query(
        "migrations.create_table",
        """
        CREATE TABLE IF NOT EXISTS schema_migrations (
            version    integer PRIMARY KEY,
            name       text NOT NULL,
            checksum   text NOT NULL,
            applied_at timestamptz NOT NULL DEFAULT now()
        )
        """)
    static let listApplied = Query("migrations.list_applied", "SELECT version, checksum FROM schema_migrations")
    static let noTimeouts = Query("migrations.no_timeouts", "SELECT set_config('statement_timeout', '0', false), set_config('lock_timeout', '0', false)")
    static let record = Query("migrations.record", "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1::integer, $2, $3)")
}

/// A migration that cannot be applied as it stands.
public struct MigrationError: Error, CustomStringConvertible {
    public let name: String
    public let problem: String
    public var description: String { "migration \(name) \(problem)" }
}
