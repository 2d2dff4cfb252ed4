// swift-tools-version:6.1
// HopGate: a self-hosted reverse HTTPS tunnel gateway.
//
// Layout (checked by the unit tests in Tests/Unit/Architecture):
//   Sources/Domain   pure rules            Sources/Ports    port protocols + use cases
//   Sources/Adapters one target each       Sources/Apps     composition roots only
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
    // Release builds let the optimizer see across our own modules (Domain, Ports, the
    // adapters): generic code such as RouteTable<[TunnelID]> is specialized where it is used
    // instead of instantiating type metadata and dispatching through witness tables on every
    // request. Measured against the same sources without it (scripts/profile --compare,
    // 4 rounds, wrk -c50): CPU per request ÷ nginx HTTPS's in the same round, edge 2.93 → 2.52,
    // client 2.65 → 2.25. Debug builds (tests, ASan) keep the default.
    .unsafeFlags(["-cross-module-optimization"], .when(configuration: .release)),
    // Release builds link the Swift runtime and Foundation into our programs (see
    // `standaloneRelease`); compiled with the flag, our modules name the static libraries that
    // Foundation needs (CoreFoundation, ICU), which the link then finds.
    .unsafeFlags(["-static-stdlib"], .when(platforms: [.linux], configuration: .release)),
]

/// Release builds of our programs carry the Swift runtime and Foundation inside them (what
/// `swift build --static-swift-stdlib` does, without anyone having to remember the flag):
/// - a binary runs on a machine without a Swift toolchain, so `deploy/` installs just the file;
/// - calls into the runtime (`swift_retain`, `swift_release`, allocation, metadata) are direct
///   calls instead of jumps through the dynamic linker's tables, and the runtime's thread-locals
///   (the current task, the exclusivity checks' access set) are read without `__tls_get_addr`
///   (0.65 % of the edge's samples before). Same-hour A/Bs against the same sources linked
///   against the shared libraries (`bench/harness/compare.py`, three runs of 4–5 rounds): CPU
///   per request ÷ nginx HTTPS's at 50 connections, edge 3.01 → 2.63, 3.30 → 2.97 and
///   3.04 → 2.93, client 2.55 → 2.24, 2.85 → 2.55 and 2.60 → 2.49; h2 with 50 streams on the
///   tunnel's loop, edge 89 → 72, 115 → 81 and 92 → 82 µs;
/// - a process starts without binding a dozen shared libraries: `perf stat -r 20 hopgate-client
///   --help` 13.9 → 6.0 ms of CPU, 29 → 7 ms wall.
/// Debug builds (tests, ASan, the fuzzer) keep the shared libraries; on macOS the runtime is the
/// system's.
///
/// `--no-export-dynamic` undoes the `-export-dynamic` that the toolchain's static-stdlib link
/// arguments add: nothing resolves our symbols by name (the one `dlsym` is glibc's `malloc_trim`,
/// and Swift's backtracer names frames from the file's own symbol table), yet every symbol of
/// the program was exported — 6.3 MB of `.dynsym`, `.dynstr` and `.gnu.hash`, 2.2 MiB of them
/// resident in an idle edge (`hopgate-server dev` 43.4–43.7 → 41.0–41.4 MiB RSS, 12-07).
let standaloneRelease: [LinkerSetting] = [
    .unsafeFlags(["-static-stdlib", "-Xlinker", "--no-export-dynamic"], .when(platforms: [.linux], configuration: .release)),
]

let package = Package(
    name: "hopgate",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "hopgate-server", targets: ["HopGateServer"]),
        .executable(name: "hopgate-client", targets: ["HopGateClient"]),
        .executable(name: "hopgate-fuzz", targets: ["HopGateFuzz"]),
        .executable(name: "hopgate-swarm", targets: ["HopGateSwarm"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-asn1", from: "1.7.4"),
        .package(url: "https://github.com/apple/swift-async-algorithms", from: "1.1.4"),
        .package(url: "https://github.com/apple/swift-certificates", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.3"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-nio-http2", from: "1.46.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-openapi-runtime", from: "1.13.4"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
        .package(url: "https://github.com/grpc/grpc-swift-2", from: "2.4.3"),
        .package(url: "https://github.com/grpc/grpc-swift-nio-transport", from: "2.9.2"),
        .package(url: "https://github.com/grpc/grpc-swift-protobuf", from: "2.4.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/swift-openapi-hummingbird", from: "2.1.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/swift-server/swift-openapi-async-http-client", from: "1.5.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/vapor/sqlite-nio", from: "1.13.2"),
    ],
    targets: [
        // MARK: Domain — pure rules, no I/O.
        .target(
            name: "HopGateDomain",
            dependencies: [.product(name: "Crypto", package: "swift-crypto")],
            path: "Sources/Domain",
            swiftSettings: swiftSettings
        ),

        // MARK: Ports — driven-port protocols and the use cases built on them.
        .target(
            name: "HopGatePorts",
            dependencies: [
                "HopGateDomain",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Sources/Ports",
            swiftSettings: swiftSettings
        ),

        // MARK: Adapters — one target each; never import each other.
        .target(
            name: "HopGateSQLite",
            dependencies: [
                "HopGatePorts",
                .product(name: "SQLiteNIO", package: "sqlite-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            path: "Sources/Adapters/SQLite",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "HopGatePostgres",
            dependencies: [
                "HopGatePorts",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            path: "Sources/Adapters/Postgres",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "HopGateAdminAPI",
            dependencies: [
                "HopGatePorts",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "OpenAPIRuntime", package: "swift-openapi-runtime"),
                .product(name: "OpenAPIHummingbird", package: "swift-openapi-hummingbird"),
                .product(name: "OpenAPIAsyncHTTPClient", package: "swift-openapi-async-http-client"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            path: "Sources/Adapters/AdminAPI",
            exclude: ["openapi.yaml", "openapi-generator-config.yaml"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "HopGateGRPCTransport",
            dependencies: [
                "HopGatePorts",
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
                .product(name: "GRPCProtobuf", package: "grpc-swift-protobuf"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOHTTP2", package: "swift-nio-http2"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            path: "Sources/Adapters/GRPCTransport",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "HopGateLoopbackTransport",
            dependencies: [
                "HopGatePorts",
                .product(name: "AsyncAlgorithms", package: "swift-async-algorithms"),
            ],
            path: "Sources/Adapters/LoopbackTransport",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "HopGateSelfSignedCertificates",
            dependencies: [
                "HopGatePorts",
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            path: "Sources/Adapters/SelfSignedCertificates",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "HopGateACME",
            dependencies: [
                "HopGatePorts",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Sources/Adapters/ACME",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "HopGateEdge",
            dependencies: [
                "HopGatePorts",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOHTTP2", package: "swift-nio-http2"),
                .product(name: "NIOHPACK", package: "swift-nio-http2"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "NIOHTTPTypesHTTP1", package: "swift-nio-extras"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Sources/Adapters/Edge",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "HopGateLocalForwarder",
            dependencies: [
                "HopGatePorts",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "AsyncAlgorithms", package: "swift-async-algorithms"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            path: "Sources/Adapters/LocalForwarder",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "HopGateObservability",
            dependencies: [
                "HopGatePorts",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            path: "Sources/Adapters/Observability",
            swiftSettings: swiftSettings
        ),

        .target(
            name: "HopGateConfiguration",
            dependencies: [],
            path: "Sources/Adapters/Configuration",
            swiftSettings: swiftSettings
        ),

        // MARK: Apps — composition roots.
        .executableTarget(
            name: "HopGateServer",
            dependencies: [
                "HopGateDomain", "HopGatePorts",
                "HopGateSQLite", "HopGatePostgres", "HopGateAdminAPI",
                "HopGateGRPCTransport", "HopGateSelfSignedCertificates", "HopGateACME", "HopGateEdge", "HopGateLocalForwarder",
                "HopGateObservability", "HopGateConfiguration",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Sources/Apps/hopgate-server",
            swiftSettings: swiftSettings,
            linkerSettings: standaloneRelease
        ),
        .executableTarget(
            name: "HopGateClient",
            dependencies: [
                "HopGateDomain", "HopGatePorts",
                "HopGateGRPCTransport", "HopGateLocalForwarder", "HopGateObservability", "HopGateConfiguration",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Sources/Apps/hopgate-client",
            swiftSettings: swiftSettings,
            linkerSettings: standaloneRelease
        ),
        .executableTarget(
            name: "HopGateFuzz",
            dependencies: [
                "HopGatePorts", "HopGateGRPCTransport", "HopGateEdge",
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "NIOHTTPTypesHTTP1", package: "swift-nio-extras"),
            ],
            path: "Sources/Apps/hopgate-fuzz",
            swiftSettings: swiftSettings,
            linkerSettings: standaloneRelease
        ),
        .executableTarget(
            name: "HopGateSwarm",
            dependencies: [
                "HopGateDomain", "HopGatePorts", "HopGateGRPCTransport", "HopGateLocalForwarder",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Sources/Apps/hopgate-swarm",
            swiftSettings: swiftSettings,
            linkerSettings: standaloneRelease
        ),

        // MARK: Tests.
        .target(
            name: "HopGateTestSupport",
            dependencies: [
                "HopGateDomain", "HopGatePorts",
                "HopGateSQLite", "HopGatePostgres",
                "HopGateLoopbackTransport", "HopGateGRPCTransport",
                "HopGateSelfSignedCertificates", "HopGateACME", "HopGateEdge",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            path: "Tests/Contract/Support",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "UnitTests",
            dependencies: [
                "HopGateDomain", "HopGatePorts", "HopGateTestSupport", "HopGateConfiguration", "HopGateObservability", "HopGateACME",
                "HopGateEdge", "HopGateGRPCTransport", "HopGateLocalForwarder",
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOHPACK", package: "swift-nio-http2"),
                .product(name: "NIOHTTP2", package: "swift-nio-http2"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "NIOHTTPTypesHTTP1", package: "swift-nio-extras"),
                .product(name: "NIOHTTPTypesHTTP2", package: "swift-nio-extras"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "MetricsTestKit", package: "swift-metrics"),
            ],
            path: "Tests/Unit",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ContractTests",
            dependencies: [
                "HopGateDomain", "HopGatePorts", "HopGateTestSupport",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            path: "Tests/Contract/Suites",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "IntegrationTests",
            dependencies: [
                "HopGateDomain", "HopGatePorts", "HopGateTestSupport",
                "HopGateAdminAPI", "HopGateSQLite", "HopGatePostgres", "HopGateEdge", "HopGateLocalForwarder", "HopGateGRPCTransport",
                "HopGateSelfSignedCertificates", "HopGateObservability", "HopGateACME",
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ],
            path: "Tests/Integration",
            exclude: ["Fixtures"],
            swiftSettings: swiftSettings
        ),
    ]
)
