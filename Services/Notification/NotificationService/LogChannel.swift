import Foundation
public import NotificationDomain
import Synchronization

/// Appends one JSON line per delivered notification to a file (NOTIFICATION_LOG_FILE), or to
/// standard output when no file is given.
public final class LogChannel: NotificationChannel, Sendable {
    private let path: String?
    /// Serialises the writes, so that lines of concurrent deliveries never interleave.
    private let writing = Mutex(())

    public init(path: String?) {
        self.path = path
    }

    public func deliver(_ notification: CustomerNotification) throws {
        let line = try NotificationDocument(notification).json() + [UInt8(ascii: "\n")]
        try writing.withLock { _ in
            guard let path else {
                try FileHandle.standardOutput.write(contentsOf: line)
                return
            }
            if !FileManager.default.fileExists(atPath: path) {
                guard FileManager.default.createFile(atPath: path, contents: nil) else {
                    throw LogChannelError(path: path, detail: "cannot create the file")
                }
            }
            guard let handle = FileHandle(forWritingAtPath: path) else {
                throw LogChannelError(path: path, detail: "cannot open the file for writing")
            }
            defer { try? handle.close() }
            try handle.seekToEnd()
            try handle.write(contentsOf: line)
        }
    }
}

/// The log channel could not write its file.
struct LogChannelError: Error, CustomStringConvertible {
    var path: String
    var detail: String
    var description: String { "log channel \(path): \(detail)" }
}
