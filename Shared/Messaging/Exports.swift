/// The runtime re-exports the message model, so that code that runs messages (services, tools,
/// tests) imports one module; Contracts and the domains import `MessageModel` alone.
@_exported import MessageModel
