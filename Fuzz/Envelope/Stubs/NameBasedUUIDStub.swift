import Foundation

// Stands in for Shared/MessageModel/NameBasedUUID.swift in the fuzz build of module MessageModel: the real one
// needs swift-crypto (SHA-1), which the fuzz build does not compile. Envelope.swift refers to it only in
// `Envelope.derived`, which decoding and encoding never call; the fuzz target must not reach it.
extension UUID {
    public static func nameBased(namespace: UUID, name: String) -> UUID {
        fatalError("UUID.nameBased is not part of the fuzz build")
    }
}
