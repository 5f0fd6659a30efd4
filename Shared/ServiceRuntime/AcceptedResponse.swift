import Foundation
import HTTPServer

extension HTTPResponse {
    /// `202 Accepted` for a write: the JSON body and a `Location` to poll, `<collection>/<id>`,
    /// with the id percent-encoded as one path segment (ids may contain `%`, `#` and the like).
    public static func accepted<T: Encodable>(_ body: T, location collection: String, id: String) -> HTTPResponse {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        var headers = HTTPHeaders()
        headers.add(
            name: "Location", value: "\(collection)/\(id.addingPercentEncoding(withAllowedCharacters: allowed) ?? id)")
        return .json(body, status: .accepted, headers: headers)
    }
}
