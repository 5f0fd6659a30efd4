/// Writes a response (status line, headers, body) into a reusable output buffer in one pass.
///
/// The server owns framing: handler-supplied `Content-Length`, `Transfer-Encoding`, `Connection`, `Keep-Alive`
/// and `Date` are dropped (and `Server` when a server name is configured), as is any header whose name is not a
/// token or whose value contains CR, LF or other control characters (response-splitting guard).
/// 1xx/204/304 responses carry neither body nor Content-Length (RFC 9110 §8.6); HEAD responses carry the
/// Content-Length of the body they omit.
enum ResponseSerializer {
    static let continueResponse: [UInt8] = Array("HTTP/1.1 100 Continue\r\n\r\n".utf8)

    static func write(
        _ response: HTTPResponse,
        into out: inout [UInt8],
        isHead: Bool,
        keepAlive: Bool,
        http10: Bool,
        date: [UInt8],
        serverName: [UInt8]?
    ) {
        let status = (100...999).contains(response.status.code) ? response.status : .internalServerError
        let sendsBody = !status.forbidsBody && !isHead
        out.reserveCapacity(out.count + 160 + response.headers.count * 48 + (sendsBody ? response.body.count : 0))

        append("HTTP/1.1 ", to: &out)
        out.append(UInt8(48 + status.code / 100))
        out.append(UInt8(48 + (status.code / 10) % 10))
        out.append(UInt8(48 + status.code % 10))
        out.append(0x20)
        let reason = status.reason.utf8
        if reason.allSatisfy({ $0 == 0x09 || ($0 >= 0x20 && $0 != 0x7F) }) {
            out.append(contentsOf: reason)
        } else {
            out.append(contentsOf: HTTPStatus(code: status.code).reason.utf8)
        }
        append("\r\n", to: &out)

        for field in response.headers where isAllowed(field, serverNameSet: serverName != nil) {
            out.append(contentsOf: field.name.utf8)
            append(": ", to: &out)
            out.append(contentsOf: field.value.utf8)
            append("\r\n", to: &out)
        }
        append("Date: ", to: &out)
        out.append(contentsOf: date)
        append("\r\n", to: &out)
        if let serverName {
            append("Server: ", to: &out)
            out.append(contentsOf: serverName)
            append("\r\n", to: &out)
        }
        if !status.forbidsBody {
            append("Content-Length: ", to: &out)
            out.append(contentsOf: String(response.body.count).utf8)
            append("\r\n", to: &out)
        }
        if !keepAlive {
            append("Connection: close\r\n", to: &out)
        } else if http10 {
            append("Connection: keep-alive\r\n", to: &out)
        }
        append("\r\n", to: &out)
        if sendsBody {
            out.append(contentsOf: response.body)
        }
    }

    /// Whether the handler asked for the connection to be closed (`Connection: close`).
    static func requestsClose(_ response: HTTPResponse) -> Bool {
        for value in response.headers.values("Connection") {
            for token in value.split(separator: ",")
            where HTTPHeaders.equalsIgnoringCase(String(token.trimmingASCIIWhitespace()), "close") {
                return true
            }
        }
        return false
    }

    private static func isAllowed(_ field: HTTPHeaders.Element, serverNameSet: Bool) -> Bool {
        let name = field.name
        if name.isEmpty || !name.utf8.allSatisfy(RequestHeadParser.isTokenChar) { return false }
        if !field.value.utf8.allSatisfy({ $0 == 0x09 || ($0 >= 0x20 && $0 != 0x7F) }) { return false }
        switch name.utf8.count {
        case 4: return !HTTPHeaders.equalsIgnoringCase(name, "date")
        case 6: return !(serverNameSet && HTTPHeaders.equalsIgnoringCase(name, "server"))
        case 10:
            return !HTTPHeaders.equalsIgnoringCase(name, "connection")
                && !HTTPHeaders.equalsIgnoringCase(name, "keep-alive")
        case 14: return !HTTPHeaders.equalsIgnoringCase(name, "content-length")
        case 17: return !HTTPHeaders.equalsIgnoringCase(name, "transfer-encoding")
        default: return true
        }
    }

    @inline(__always)
    private static func append(_ literal: StaticString, to out: inout [UInt8]) {
        literal.withUTF8Buffer { out.append(contentsOf: $0) }
    }
}
