// swift-tools-version:6.2
import PackageDescription

/// Strict settings for every Swift target: Swift 6 language mode (complete concurrency checking),
/// explicit `any`, imports that must be visible where members are used, and every warning an
/// error (ours only: the dependencies' warnings stay theirs).
let strict: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
    .treatAllWarnings(as: .error),
]

/// Test targets: the same, but warnings stay warnings, since swift-testing's macros expand into
/// code that warns under this toolchain (`@const`, `@section`) and cannot be changed here.
let testSettings: [SwiftSetting] = strict.dropLast()

let log = Target.Dependency.product(name: "Logging", package: "swift-log")
let metrics = Target.Dependency.product(name: "Metrics", package: "swift-metrics")
let lifecycle = Target.Dependency.product(name: "ServiceLifecycle", package: "swift-service-lifecycle")
let signals = Target.Dependency.product(name: "UnixSignals", package: "swift-service-lifecycle")
let argumentParser = Target.Dependency.product(name: "ArgumentParser", package: "swift-argument-parser")

let package = Package(
    name: "cqrs-swift",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "order-service", targets: ["OrderServiceMain"]),
        .executable(name: "dev-broker", targets: ["DevBroker"]),
        .executable(name: "inventory-service", targets: ["InventoryServiceMain"]),
        .executable(name: "payment-service", targets: ["PaymentServiceMain"]),
        .executable(name: "saga-orchestrator", targets: ["SagaOrchestratorMain"]),
        .executable(name: "notification-service", targets: ["NotificationServiceMain"]),
        .executable(name: "replay", targets: ["Replay"]),
        .executable(name: "dlq", targets: ["DLQ"]),
        .executable(name: "seed-events", targets: ["SeedEvents"]),
        .executable(name: "loadgen", targets: ["LoadGen"]),
        .executable(name: "codec-bench", targets: ["CodecBench"]),
        .executable(name: "chaos", targets: ["ChaosMain"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.0"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift.git", from: "0.2.0"),
        .package(url: "https://github.com/apple/swift-distributed-tracing.git", from: "1.1.0"),
    ],
    targets: [
        // C libraries, wrapped once each.
        .systemLibrary(
            name: "CLibrdkafka", path: "Shared/CLibrdkafka", pkgConfig: "rdkafka",
            providers: [.apt(["librdkafka-dev"])]),
        .systemLibrary(name: "CHTTPSystem", path: "Shared/CHTTPSystem"),
        .systemLibrary(
            name: "CLibpq", path: "Shared/CLibpq", pkgConfig: "libpq",
            providers: [.apt(["libpq-dev"])]),

        // Shared libraries.
        .target(name: "JSONDiagnostics", path: "Shared/JSONDiagnostics", swiftSettings: strict),
        .target(name: "Kafka", dependencies: ["CLibrdkafka", log], path: "Shared/Kafka", swiftSettings: strict),
        // A JSON text writer and reader over bytes (pure), for the hot paths' rows: the saga's
        // document and the stores' record sets.
        .target(name: "JSONText", path: "Shared/JSONText", swiftSettings: strict),
        .target(
            name: "Postgres", dependencies: ["CLibpq", "JSONText", log], path: "Shared/Postgres", swiftSettings: strict),
        // Blocking work off the cooperative pool: `OffPool.run` (work that ends) and
        // `DedicatedThread.run` (work that loops until stopped), with the `StopSignal` it sleeps on.
        .target(name: "Threads", dependencies: [lifecycle], path: "Shared/Threads", swiftSettings: strict),
        .target(
            name: "HTTPServer", dependencies: ["CHTTPSystem", "JSONDiagnostics", "Threads", log, metrics, lifecycle],
            path: "Shared/HTTPServer",
            swiftSettings: strict),
        // The message model: envelopes, their codec, payloads, timestamps, name-based ids, trace
        // context, topic access. Pure: no librdkafka, no libpq, no I/O; Contracts and every domain
        // depend on it alone (DeploymentTests.DomainPurityTests keeps it so).
        .target(
            name: "MessageModel",
            dependencies: ["JSONDiagnostics", "JSONText", .product(name: "Crypto", package: "swift-crypto")],
            path: "Shared/MessageModel", swiftSettings: strict),
        // The message runtime: the processing loop, dead letters, parking, the loop's schema and
        // metrics, trace propagation through Kafka headers. Re-exports MessageModel.
        .target(
            name: "Messaging",
            dependencies: [
                "MessageModel", "Kafka", "Postgres", "Threads", log, metrics, lifecycle,
                .product(name: "Instrumentation", package: "swift-distributed-tracing"),
            ],
            path: "Shared/Messaging", swiftSettings: strict),
        .target(name: "Contracts", dependencies: ["MessageModel"], path: "Shared/Contracts", swiftSettings: strict),
        .target(
            name: "ServiceRuntime",
            dependencies: [
                "HTTPServer", "Messaging", "Contracts", "Kafka", "Postgres", "Threads", log, metrics, lifecycle,
                signals,
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            path: "Shared/ServiceRuntime", swiftSettings: strict),

        // Order service: pure domain, service library (routes, projection, processor), executable.
        .target(name: "OrderDomain", dependencies: ["Contracts"], path: "Services/Order/Domain", swiftSettings: strict),
        .target(
            name: "OrderService", dependencies: ["OrderDomain", "Contracts", "ServiceRuntime"],
            path: "Services/Order/OrderService",
            resources: [.embedInCode("openapi.json")], swiftSettings: strict),
        .executableTarget(
            name: "OrderServiceMain", dependencies: ["OrderService", "Contracts", "ServiceRuntime"],
            path: "Services/Order/Main",
            swiftSettings: strict),

        // MARK: Inventory service
        .target(
            name: "InventoryDomain", dependencies: ["Contracts"], path: "Services/Inventory/Domain",
            swiftSettings: strict),
        .target(
            name: "InventoryService", dependencies: ["InventoryDomain", "Contracts", "ServiceRuntime"],
            path: "Services/Inventory/InventoryService",
            resources: [.embedInCode("openapi.json")], swiftSettings: strict),
        .executableTarget(
            name: "InventoryServiceMain", dependencies: ["InventoryService", "Contracts", "ServiceRuntime"],
            path: "Services/Inventory/Main", swiftSettings: strict),

        // MARK: Payment service
        .target(
            name: "PaymentDomain", dependencies: ["Contracts"], path: "Services/Payment/Domain", swiftSettings: strict),
        .target(
            name: "PaymentService", dependencies: ["PaymentDomain", "Contracts", "ServiceRuntime"],
            path: "Services/Payment/PaymentService",
            resources: [.embedInCode("openapi.json")], swiftSettings: strict),
        .executableTarget(
            name: "PaymentServiceMain", dependencies: ["PaymentService", "Contracts", "ServiceRuntime"],
            path: "Services/Payment/Main", swiftSettings: strict),
        // MARK: Saga orchestrator: pure saga domain, service library (processor, projection, timer, routes), executable.
        .target(name: "SagaDomain", dependencies: ["Contracts"], path: "Services/Saga/Domain", swiftSettings: strict),
        .target(
            name: "SagaOrchestrator",
            dependencies: ["SagaDomain", "Contracts", "ServiceRuntime", "Threads", log, lifecycle],
            path: "Services/Saga/SagaOrchestrator",
            resources: [.embedInCode("openapi.json")], swiftSettings: strict),
        .executableTarget(
            name: "SagaOrchestratorMain", dependencies: ["SagaOrchestrator", "Contracts", "ServiceRuntime"],
            path: "Services/Saga/Main",
            swiftSettings: strict),
        // MARK: Notification service
        // Pure domain, service library (routes, projection, processor, delivery worker), executable,
        // and the hand-written HTTP/1.1 client the webhook channel uses.
        .target(name: "HTTPClient", path: "Shared/HTTPClient", swiftSettings: strict),
        .target(
            name: "NotificationDomain", dependencies: ["Contracts", "MessageModel"],
            path: "Services/Notification/Domain",
            swiftSettings: strict),
        .target(
            name: "NotificationService",
            dependencies: [
                "NotificationDomain", "Contracts", "ServiceRuntime", "HTTPClient", "Threads", log, metrics, lifecycle,
            ],
            path: "Services/Notification/NotificationService",
            resources: [.embedInCode("openapi.json")], swiftSettings: strict),
        .executableTarget(
            name: "NotificationServiceMain", dependencies: ["NotificationService", "Contracts", "ServiceRuntime"],
            path: "Services/Notification/Main", swiftSettings: strict),

        // Tools.
        .executableTarget(
            name: "DevBroker",
            dependencies: ["Kafka", "HTTPServer", "Threads", argumentParser, log, lifecycle, signals],
            path: "Tools/DevBroker", swiftSettings: strict),
        .executableTarget(
            name: "SeedEvents",
            dependencies: ["Kafka", "Postgres", "Messaging", "Contracts", "OrderService", argumentParser, log],
            path: "Tools/SeedEvents", swiftSettings: strict),
        // The load generator: a library (plan, recorder, watcher, run, report) and its command line.
        .target(
            name: "LoadGeneration",
            dependencies: [
                "HTTPClient", "Kafka", "Messaging", log, .product(name: "Histogram", package: "hdrhistogram-swift"),
            ],
            path: "Tools/LoadGeneration", swiftSettings: strict),
        .executableTarget(
            name: "LoadGen",
            dependencies: ["LoadGeneration", "HTTPClient", "Kafka", "Contracts", "Messaging", argumentParser, log],
            path: "Tools/LoadGen",
            swiftSettings: strict),
        // The design brief's invariants, checked through the read models (the chaos runner and the
        // end-to-end tests use the same check).
        .target(
            name: "SagaInvariants", dependencies: ["HTTPClient"], path: "Tools/SagaInvariants", swiftSettings: strict),
        // The chaos runner: a library (stack control, faults, the run, its report) and its command line.
        .target(
            name: "Chaos",
            dependencies: [
                "LoadGeneration", "SagaInvariants", "HTTPClient", "Kafka", "Postgres", "Messaging", "Contracts", log,
            ],
            path: "Tools/Chaos", swiftSettings: strict),
        .executableTarget(
            name: "ChaosMain", dependencies: ["Chaos", "SagaInvariants", "HTTPClient", argumentParser, log],
            path: "Tools/ChaosMain",
            swiftSettings: strict),
        .executableTarget(
            name: "CodecBench", dependencies: ["Messaging", "Contracts", argumentParser], path: "Tools/CodecBench",
            swiftSettings: strict),
        // Operations: the replay tool and the dead-letter tool, over one library that knows every
        // service's projection (their own apply code) and configuration.
        .target(
            name: "Operations",
            dependencies: [
                "Messaging", "Kafka", "Postgres", "Contracts", "ServiceRuntime", "OrderService", "PaymentService",
                "InventoryService", "NotificationService", "SagaOrchestrator", log,
            ],
            path: "Tools/Operations", swiftSettings: strict),
        .executableTarget(
            name: "Replay",
            dependencies: [
                "Operations", "Contracts", "Messaging", "Kafka", "Postgres", "ServiceRuntime", argumentParser, log,
            ], path: "Tools/Replay",
            swiftSettings: strict),
        .executableTarget(
            name: "DLQ",
            dependencies: [
                "Operations", "Contracts", "Messaging", "Kafka", "Postgres", "ServiceRuntime", argumentParser, log,
            ],
            path: "Tools/DLQ", swiftSettings: strict),

        // Tests.
        // What domain tests share: pure, so that a decider's tests link neither librdkafka nor libpq.
        .target(
            name: "DomainTestSupport", dependencies: ["MessageModel"], path: "Tests/DomainTestSupport",
            swiftSettings: strict),
        .target(
            name: "TestSupport", dependencies: ["Postgres", "Kafka", "Messaging", "Contracts", log],
            path: "Tests/TestSupport",
            swiftSettings: strict),
        .testTarget(
            name: "HTTPServerTests",
            dependencies: [
                "HTTPServer", "TestSupport", log, metrics, lifecycle,
                .product(name: "MetricsTestKit", package: "swift-metrics"),
            ],
            path: "Tests/HTTPServerTests", swiftSettings: testSettings),
        .testTarget(
            name: "PostgresTests", dependencies: ["Postgres", "JSONText"], path: "Tests/PostgresTests",
            swiftSettings: testSettings),
        .testTarget(name: "KafkaTests", dependencies: ["Kafka"], path: "Tests/KafkaTests", swiftSettings: testSettings),
        .testTarget(
            name: "MessagingTests", dependencies: ["Messaging", "MessageModel", "Contracts", "TestSupport"],
            path: "Tests/MessagingTests",
            swiftSettings: testSettings),
        .testTarget(
            name: "OrderDomainTests", dependencies: ["OrderDomain", "DomainTestSupport"],
            path: "Tests/OrderDomainTests",
            swiftSettings: testSettings),
        .testTarget(
            name: "EndToEndTests",
            dependencies: [
                "TestSupport", "SagaInvariants", "HTTPClient", "Contracts", "Messaging", "Kafka", "Postgres",
                "HTTPServer", log,
            ],
            path: "Tests/EndToEndTests",
            swiftSettings: testSettings),
        .testTarget(
            name: "InventoryDomainTests", dependencies: ["InventoryDomain", "DomainTestSupport"],
            path: "Tests/InventoryDomainTests",
            swiftSettings: testSettings),
        .testTarget(
            name: "PaymentDomainTests", dependencies: ["PaymentDomain", "DomainTestSupport"],
            path: "Tests/PaymentDomainTests",
            swiftSettings: testSettings),
        .testTarget(
            name: "SagaDomainTests", dependencies: ["SagaDomain", "DomainTestSupport"], path: "Tests/SagaDomainTests",
            swiftSettings: testSettings),
        .testTarget(
            name: "NotificationDomainTests",
            dependencies: ["NotificationDomain", "Contracts", "MessageModel", "DomainTestSupport"],
            path: "Tests/NotificationDomainTests", swiftSettings: testSettings),
        .testTarget(
            name: "OperationsTests",
            dependencies: [
                "Operations", "Kafka", "Messaging", "ServiceRuntime", "HTTPServer", "Postgres", "OrderService",
                "SagaOrchestrator", "SagaDomain", "Contracts",
                "TestSupport", log,
            ],
            path: "Tests/OperationsTests",
            swiftSettings: testSettings),
        .testTarget(
            name: "HTTPClientTests", dependencies: ["HTTPClient", "HTTPServer", log], path: "Tests/HTTPClientTests",
            swiftSettings: testSettings),
        .testTarget(
            name: "LoadGenerationTests", dependencies: ["LoadGeneration"], path: "Tests/LoadGenerationTests",
            swiftSettings: testSettings),
        .testTarget(
            name: "ChaosTests", dependencies: ["Chaos", "SagaInvariants", "HTTPClient", "HTTPServer", log],
            path: "Tests/ChaosTests",
            swiftSettings: testSettings),
        .testTarget(
            name: "MessageSchemaTests",
            dependencies: [
                "Contracts", "Messaging", "InventoryDomain", "PaymentDomain", "NotificationDomain", "SagaDomain",
                "TestSupport",
            ],
            path: "Tests/MessageSchemaTests", swiftSettings: testSettings),
        .testTarget(
            name: "DeploymentTests", dependencies: ["TestSupport", "Contracts", "Messaging"],
            path: "Tests/DeploymentTests", swiftSettings: testSettings),
    ]
)
