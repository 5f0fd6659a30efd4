import CLibpq
import Logging

/// Receives server notices (NOTICE, WARNING, ...) for one connection and logs them
/// instead of letting libpq print them to stderr.
final class PostgresNoticeSink: Sendable {
    let logger: Logger

    init(logger: Logger) {
        self.logger = logger
    }

    /// Installs this sink on `handle`. The sink must outlive the `PGconn`.
    func install(on handle: OpaquePointer) {
        PQsetNoticeReceiver(
            handle,
            { context, result in
                guard let context, let result else { return }
                let sink = Unmanaged<PostgresNoticeSink>.fromOpaque(context).takeUnretainedValue()
                sink.receive(result)
            },
            Unmanaged.passUnretained(self).toOpaque()
        )
    }

    private func receive(_ result: OpaquePointer) {
        let severity = PostgresConnection.errorField(result, "V") ?? "NOTICE"
        let message = PostgresConnection.errorField(result, "M") ?? ""
        let sqlState = PostgresConnection.errorField(result, "C") ?? ""
        let level: Logger.Level = severity == "WARNING" ? .warning : .debug
        logger.log(level: level, "server \(severity.lowercased()): \(message)", metadata: ["sqlstate": "\(sqlState)"])
    }
}
