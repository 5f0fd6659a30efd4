import Foundation
import Messaging
public import PaymentDomain
public import Postgres

/// Reads and writes the `accounts` and `payments` tables. Table names are unqualified so that
/// the replay tool can rebuild into another schema through `search_path`.
public enum PaymentStore {
    /// The accounts of `customers`, each with the payments of `orders` it has (only those: a
    /// customer may have any number of payments, and a batch needs only its own).
    public static func load(customers: [String], orders: [String], db: PostgresConnection) throws -> [String: Account] {
        guard !customers.isEmpty else { return [:] }
        var accounts: [String: Account] = [:]
        let rows = try db.query(
            "SELECT customer_id, credit_limit_cents, available_cents, updated_at FROM accounts WHERE customer_id = ANY($1::text[])",
            [customers])
        for row in rows {
            let (customer, limit, available, updated) = try row.decode(String.self, Int.self, Int.self, Date.self)
            accounts[customer] = Account(
                customerId: customer, creditLimitCents: limit, availableCents: available, payments: [:],
                updatedAt: updated)
        }
        if !orders.isEmpty, !accounts.isEmpty {
            let payments = try db.query(
                """
                SELECT customer_id, order_id, amount_cents, status FROM payments
                WHERE customer_id = ANY($1::text[]) AND order_id = ANY($2::text[])
                """, [Array(accounts.keys), orders])
            for row in payments {
                let (customer, orderId, amount, status) = try row.decode(
                    String.self, String.self, Int.self, String.self)
                let paymentStatus = try PaymentStatus(
                    column: "status", of: "payment of order \(orderId)", value: status)
                accounts[customer]?.payments[orderId] = Payment(amountCents: amount, status: paymentStatus)
            }
        }
        return accounts
    }

    public static func findAccount(_ customerId: String, db: PostgresConnection) throws -> Account? {
        try load(customers: [customerId], orders: [], db: db)[customerId]
    }

    /// An order's payment and the customer it belongs to. (An order has one customer; were a
    /// malformed command to charge the same orderId to another customer too, each account keeps
    /// its own row and this answers the first by customerId.)
    public static func findPayment(_ orderId: String, db: PostgresConnection) throws -> (
        customerId: String, payment: Payment
    )? {
        guard
            let row = try db.query(
                "SELECT customer_id, amount_cents, status FROM payments WHERE order_id = $1 ORDER BY customer_id LIMIT 1",
                [orderId]
            ).first
        else { return nil }
        let (customer, amount, status) = try row.decode(String.self, Int.self, String.self)
        let paymentStatus = try PaymentStatus(column: "status", of: "payment of order \(orderId)", value: status)
        return (customer, Payment(amountCents: amount, status: paymentStatus))
    }

    /// Writes `accounts` over what `loaded` had: whole account rows, and the payments that were
    /// added or changed among those loaded (payments are never removed).
    public static func save(_ accounts: [Account], loaded: [String: Account], db: PostgresConnection) throws {
        var changed: [(customerId: String, orderId: String, payment: Payment)] = []
        for account in accounts {
            let before = loaded[account.customerId]?.payments ?? [:]
            for (orderId, payment) in account.payments where before[orderId] != payment {
                changed.append((account.customerId, orderId, payment))
            }
        }
        try upsertAccounts.execute(accounts, on: db)
        try upsertPayments.execute(changed, on: db)
    }

    static let upsertAccounts = RecordSetStatement<Account>.upsert(
        into: "accounts",
        [
            .text("customer_id") { $0.customerId }, .bigint("credit_limit_cents") { $0.creditLimitCents },
            .bigint("available_cents") { $0.availableCents }, .timestamptz("updated_at") { $0.updatedAt },
        ],
        onConflict: ["customer_id"], update: .columns(["credit_limit_cents", "available_cents", "updated_at"]))

    static let upsertPayments = RecordSetStatement<(customerId: String, orderId: String, payment: Payment)>.upsert(
        into: "payments",
        [
            .text("order_id") { $0.orderId }, .text("customer_id") { $0.customerId },
            .bigint("amount_cents") { $0.payment.amountCents }, .text("status") { $0.payment.status },
        ],
        onConflict: ["customer_id", "order_id"], update: .columns(["amount_cents", "status"]))
}
