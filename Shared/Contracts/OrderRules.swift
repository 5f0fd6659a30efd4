public import MessageModel

/// The rules an order must follow, checked at the HTTP edge (as 422 field errors) and again when
/// the command is decoded from the log (as a dead-letter reason).
public enum OrderRules {
    public static let maxItems = 100
    public static let quantityRange = 1...10_000
    public static let unitPriceRange = 0...100_000_000
    public static let maxIdLength = 128

    public static func violations(customerId: String, items: [OrderLine], currency: String) -> [MessageValidationError]
    {
        var errors: [MessageValidationError] = []
        errors += identifierViolations(customerId, field: "customerId")
        if items.isEmpty || items.count > maxItems {
            errors.append(MessageValidationError(field: "items", message: "must have 1 to \(maxItems) lines"))
        }
        for (index, line) in items.prefix(maxItems).enumerated() {
            errors += identifierViolations(line.sku, field: "items[\(index)].sku")
            if !quantityRange.contains(line.quantity) {
                errors.append(
                    MessageValidationError(
                        field: "items[\(index)].quantity",
                        message: "must be from \(quantityRange.lowerBound) to \(quantityRange.upperBound)"))
            }
            if !unitPriceRange.contains(line.unitPriceCents) {
                errors.append(
                    MessageValidationError(
                        field: "items[\(index)].unitPriceCents",
                        message: "must be from \(unitPriceRange.lowerBound) to \(unitPriceRange.upperBound)"))
            }
        }
        if !isCurrencyCode(currency) {
            errors.append(
                MessageValidationError(field: "currency", message: "must be a three-letter ISO 4217 code like EUR"))
        }
        return errors
    }

    /// Non-empty, at most ``maxIdLength`` characters, printable ASCII without spaces or slashes
    /// (ids appear in URL paths and Kafka keys).
    public static func identifierViolations(_ value: String, field: String) -> [MessageValidationError] {
        if value.isEmpty { return [MessageValidationError(field: field, message: "must not be empty")] }
        if value.utf8.count > maxIdLength {
            return [MessageValidationError(field: field, message: "must be at most \(maxIdLength) characters")]
        }
        if !value.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "/") && $0 != UInt8(ascii: "?") }) {
            return [
                MessageValidationError(
                    field: field, message: "must be printable ASCII without spaces, '/' or '?'")
            ]
        }
        return []
    }

    public static func isCurrencyCode(_ value: String) -> Bool {
        value.utf8.count == 3 && value.utf8.allSatisfy { $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") }
    }

    /// The total of the lines; cannot overflow within the limits above.
    public static func total(of items: [OrderLine]) -> Int {
        items.reduce(0) { $0 + $1.quantity * $1.unitPriceCents }
    }
}
