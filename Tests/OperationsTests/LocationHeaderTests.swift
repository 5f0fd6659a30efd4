import HTTPServer
import ServiceRuntime
import Testing

/// The `Location` of a `202 Accepted`: the id is one path segment, percent-encoded byte by byte
/// outside RFC 3986's unreserved characters, so a header carries only ASCII.
@Suite struct LocationHeaderTests {
    @Test func anIdIsOnePercentEncodedPathSegment() {
        #expect(HTTPResponse.location("/orders", id: "3f9c-A_z.0~") == "/orders/3f9c-A_z.0~")
        #expect(HTTPResponse.location("/stock", id: "odd#sku") == "/stock/odd%23sku")
        #expect(
            HTTPResponse.location("/accounts", id: "a b/c?d%e&f+g:h@i") == "/accounts/a%20b%2Fc%3Fd%25e%26f%2Bg%3Ah%40i"
        )
        // Letters beyond ASCII are encoded too (their UTF-8 bytes), and so are controls.
        #expect(HTTPResponse.location("/accounts", id: "Jürgen\r\n") == "/accounts/J%C3%BCrgen%0D%0A")
        #expect(HTTPResponse.location("/accounts", id: "🦀") == "/accounts/%F0%9F%A6%80")
        #expect(HTTPResponse.location("/accounts", id: "") == "/accounts/")
    }
}
