/// The model re-exports its JSON text writer and reader, which the saga's rows and the codec use
/// beside the model's own types.
@_exported import JSONText
