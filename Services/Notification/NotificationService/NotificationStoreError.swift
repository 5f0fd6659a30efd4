/// A row of the notification service's tables that the code cannot read.
struct NotificationStoreError: Error, CustomStringConvertible {
    var detail: String
    var description: String { detail }
}
