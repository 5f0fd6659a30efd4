import Foundation
import Messaging
import PaymentDomain
import Postgres

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
        guard !accounts.isEmpty else { return }
        var accountRows: [AccountRow] = []
        var paymentRows: [PaymentRow] = []
        for account in accounts {
            accountRows.append(AccountRow(account))
            let before = loaded[account.customerId]?.payments ?? [:]
            for (orderId, payment) in account.payments where before[orderId] != payment {
                paymentRows.append(
                    PaymentRow(
                        order_id: orderId, customer_id: account.customerId, amount_cents: payment.amountCents,
                        status: payment.status.rawValue))
            }
        }
        try db.execute(
            """
            INSERT INTO accounts (customer_id, credit_limit_cents, available_cents, updated_at)
            SELECT customer_id, credit_limit_cents, available_cents, updated_at
            FROM jsonb_to_recordset($1::jsonb) AS r(
                customer_id text, credit_limit_cents bigint, available_cents bigint, updated_at timestamptz)
            ON CONFLICT (customer_id) DO UPDATE SET
                credit_limit_cents = EXCLUDED.credit_limit_cents, available_cents = EXCLUDED.available_cents,
                updated_at = EXCLUDED.updated_at
            """, [String(decoding: try MessageJSONEncoder.encode(accountRows), as: UTF8.self)])
        if !paymentRows.isEmpty {
            try db.execute(
                """
                INSERT INTO payments (order_id, customer_id, amount_cents, status)
                SELECT order_id, customer_id, amount_cents, status
                FROM jsonb_to_recordset($1::jsonb) AS r(order_id text, customer_id text, amount_cents bigint, status text)
                ON CONFLICT (customer_id, order_id) DO UPDATE SET
                    amount_cents = EXCLUDED.amount_cents, status = EXCLUDED.status
                """, [String(decoding: try MessageJSONEncoder.encode(paymentRows), as: UTF8.self)])
        }
    }

    /// The JSON shapes `jsonb_to_recordset` reads.
    private struct AccountRow: Encodable {
        var customer_id: String
        var credit_limit_cents: Int
        var available_cents: Int
        var updated_at: String

        init(_ account: Account) {
            customer_id = account.customerId
            credit_limit_cents = account.creditLimitCents
            available_cents = account.availableCents
            updated_at = Timestamp.format(account.updatedAt)
        }
    }

    private struct PaymentRow: Encodable {
        var order_id: String
        var customer_id: String
        var amount_cents: Int
        var status: String
    }
}
