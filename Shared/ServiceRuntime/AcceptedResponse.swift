import Foundation
public import HTTPServer

extension HTTPResponse {
    /// `202 Accepted` for a write: the JSON body and a `Location` to poll, `<collection>/<id>`,
    /// with the id percent-encoded as one path segment (ids may contain `%`, `#` and the like).
    public static func accepted<T: Encodable>(_ body: T, location collection: String, id: String) -> HTTPResponse {
        var headers = HTTPHeaders()
        headers.add(name: "Location", value: location(collection, id: id))
        return .json(body, status: .accepted, headers: headers)
    }

    /// `<collection>/<id>`, the id percent-encoded as one path segment.
    public static func location(_ collection: String, id: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return "\(collection)/\(id.addingPercentEncoding(withAllowedCharacters: allowed) ?? id)"
    }
}
