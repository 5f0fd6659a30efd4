public import Logging

/// The tools log to standard error (standard output is for their results), once per process.
public enum ToolLogging {
    public static func bootstrap(level: Logger.Level) -> Logger {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        return Logger(label: "tool")
    }
}
