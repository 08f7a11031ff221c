// swift-tools-version:6.0
// The texting service: two FastCGI responders, a sender run by a systemd timer, an admin
// CLI and a mock SMS provider, all on libfcgi, libpq and libcurl from Debian.
import PackageDescription

let package = Package(
    name: "texting",
    products: [
        .executable(name: "MessagesFCGI", targets: ["MessagesFCGI"]),
        .executable(name: "DeliveryFCGI", targets: ["DeliveryFCGI"]),
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
        .target(name: "Common", dependencies: ["CFastCGI", "CPostgres", "CCurl", "CCrypto"]),
        .executableTarget(name: "MessagesFCGI", dependencies: ["Common"]),
        .executableTarget(name: "DeliveryFCGI", dependencies: ["Common"]),
        .executableTarget(name: "SenderCron", dependencies: ["Common"]),
        // The mock provider's behaviour, linked only into the MockProvider executable (a test
        // double has no place in the production binaries).
        .target(name: "MockProviderKit", dependencies: ["Common"]),
        .executableTarget(name: "MockProvider", dependencies: ["Common", "MockProviderKit"]),
        .executableTarget(name: "TextingCtl", dependencies: ["Common"]),
        .testTarget(name: "CommonTests", dependencies: ["Common", "MockProviderKit"]),
        .testTarget(name: "MockProviderKitTests", dependencies: ["MockProviderKit", "Common"]),
    ],
    swiftLanguageModes: [.v6]
)
