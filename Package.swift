// swift-tools-version:6.0
// The texting service: three FastCGI responders (the client API, the providers' callbacks, the
// operator console), a sender run by a systemd timer, an admin
// CLI and a mock SMS provider, all on libfcgi, libpq and libcurl from Debian.
//
// The library code lives under Sources/Common as layered modules; each may import only the
// ones below it, and the compiler holds that (docs/architecture.md):
//
//   TextingService                 the two APIs, group commit, the sender, the programs' wiring
//   TextingStore                   all SQL: stores, the job queue, the migrator
//   TextingPostgres  TextingFastCGI  TextingHTTPClient   one wrapper per C library
//   TextingDomain                  numbers, bodies, segments, statuses, backoff, routing, signing
//   TextingSupport                 JSON, RFC 3339, base64url, threads, logging, settings, digests
//
// MockProviderKit (the mock SMS provider) and TextingTesting (test servers) sit beside the
// stack and are linked only into MockProvider and the test targets.
import PackageDescription

/// A library module under Sources/Common.
func layer(_ name: String, _ dependencies: [Target.Dependency]) -> Target {
    .target(name: name, dependencies: dependencies, path: "Sources/Common/\(name)")
}

/// The unit tests of `module`, under Tests/CommonTests.
func tests(of module: String, _ extra: [Target.Dependency] = []) -> Target {
    .testTarget(name: "\(module)Tests", dependencies: [.target(name: module)] + extra, path: "Tests/CommonTests/\(module)Tests")
}

let package = Package(
    name: "texting",
    products: [
        .executable(name: "MessagesFCGI", targets: ["MessagesFCGI"]),
        .executable(name: "DeliveryFCGI", targets: ["DeliveryFCGI"]),
        .executable(name: "AdminFCGI", targets: ["AdminFCGI"]),
        .executable(name: "SenderCron", targets: ["SenderCron"]),
        .executable(name: "MockProvider", targets: ["MockProvider"]),
        .executable(name: "textingctl", targets: ["TextingCtl"]),
    ],
    targets: [
        // C stays at the edge: these four modules are the only ones that see C types.
        .systemLibrary(name: "CFastCGI", pkgConfig: "fcgi", providers: [.apt(["libfcgi-dev"])]),
        .systemLibrary(name: "CPostgres", pkgConfig: "libpq", providers: [.apt(["libpq-dev"])]),
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        .systemLibrary(name: "CCrypto", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),

        layer("TextingSupport", ["CCrypto"]),
        layer("TextingDomain", ["TextingSupport"]),
        layer("TextingPostgres", ["TextingSupport", "CPostgres"]),
        layer("TextingFastCGI", ["TextingSupport", "CFastCGI"]),
        layer("TextingHTTPClient", ["TextingSupport", "CCurl"]),
        layer("TextingStore", ["TextingDomain", "TextingPostgres"]),
        layer("TextingService", ["TextingStore", "TextingFastCGI", "TextingHTTPClient"]),

        // Thin executables: read the settings, wire the pieces, run.
        .executableTarget(name: "MessagesFCGI", dependencies: ["TextingService"]),
        .executableTarget(name: "DeliveryFCGI", dependencies: ["TextingService"]),
        .executableTarget(name: "AdminFCGI", dependencies: ["TextingService"]),
        .executableTarget(name: "SenderCron", dependencies: ["TextingService"]),
        .executableTarget(name: "TextingCtl", dependencies: ["TextingService"]),

        // The mock provider's behaviour, linked only into the MockProvider executable (a test
        // double has no place in the production binaries).
        .target(name: "MockProviderKit", dependencies: ["TextingDomain", "TextingFastCGI", "TextingHTTPClient"]),
        .executableTarget(name: "MockProvider", dependencies: ["MockProviderKit"]),

        // What tests share: an echoing HTTP server on loopback.
        layer("TextingTesting", []),

        tests(of: "TextingSupport"),
        tests(of: "TextingDomain"),
        tests(of: "TextingPostgres"),
        tests(of: "TextingFastCGI"),
        tests(of: "TextingHTTPClient", ["TextingTesting"]),
        tests(of: "TextingStore"),
        tests(of: "TextingService", ["TextingTesting", "MockProviderKit"]),
        tests(of: "MockProviderKit"),
    ],
    swiftLanguageModes: [.v6]
)
