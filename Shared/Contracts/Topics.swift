/// Topic names used in code; partition counts live in deploy/topics.txt.
public enum Topics {
    public static let ordersCommands = "orders.commands"
    public static let ordersEvents = "orders.events"
    public static let inventoryCommands = "inventory.commands"
    public static let inventoryEvents = "inventory.events"
    public static let paymentsCommands = "payments.commands"
    public static let paymentsEvents = "payments.events"
    public static let notificationsCommands = "notifications.commands"
    public static let notificationsEvents = "notifications.events"
    public static let sagasReplies = "sagas.replies"
    public static let sagasEvents = "sagas.events"
}
