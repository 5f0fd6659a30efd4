import Contracts
import Foundation
import MessageModel
import SagaDomain
import Testing

/// The saga's hand-written JSON form against its synthesized Codable form: each reads what the
/// other wrote, for sagas at every stage of real decider runs and for awkward values.
@Suite("Saga: the hand-written JSON form agrees with Codable")
struct SagaJSONTextTests {
    typealias H = SagaHarness

    /// Every saga state the decider runs below pass through, and some hand-made edge values.
    static func samples() -> [Saga] {
        var sagas: [Saga] = []
        func run(_ inputs: [SagaInput]) {
            var harness = SagaHarness()
            for (index, input) in inputs.enumerated() {
                harness.send(input, at: H.t0.addingTimeInterval(Double(index) * 1.25))
                if let saga = harness.saga { sagas.append(saga) }
            }
        }
        run([
            H.placed([("a", 2), ("b", 1)]), H.stock("a", .reserved, 2), H.stock("b", .reserved, 1),
            H.payment(.authorized, 300), H.approved,
        ])
        run([
            H.placed([("a", 2), ("b", 1)]), H.stock("a", .reserved, 2), H.stock("b", .outOfStock, 1),
            H.rejected(.outOfStock),
        ])
        run([H.placed([("a", 1)]), H.expired(.reserveStock, attempt: 1), H.stock("a", .reserved)])
        run([H.placed([("a", 1)]), H.stock("a", .reserved), H.cancellationRequested(.pending), H.cancelled])
        var odd = sagas[0]
        odd.orderId = "quote\" back\\slash \u{1} tab\t nl\n é✓🙂"
        odd.failure = "a \"failure\"\r\n"
        odd.rejectReason = .insufficientCredit
        odd.deadline = nil
        odd.endedAt = Date(timeIntervalSince1970: 1_800_000_000.999)
        odd.totalCents = Int.max
        odd.attempt = -1
        sagas.append(odd)
        return sagas
    }

    @Test func eachReadsWhatTheOtherWrote() throws {
        let samples = Self.samples()
        #expect(samples.count > 15)
        #expect(Set(samples.map(\.state)).count >= 3, "the samples cover several states")
        for saga in samples {
            var writer = JSONTextWriter()
            saga.write(to: &writer)
            let byHand = writer.text
            #expect(try MessageJSON.decoder().decode(Saga.self, from: Data(byHand.utf8)) == saga, "\(byHand)")
            #expect(try Saga(jsonText: byHand) == saga, "\(byHand)")
            let byCodable = String(decoding: try MessageJSON.encoder().encode(saga), as: UTF8.self)
            #expect(try Saga(jsonText: byCodable) == saga, "\(byCodable)")
            // The same members: the two texts parse to the same value.
            #expect(try JSONTextValue.parse(byHand) == JSONTextValue.parse(byCodable))
        }
    }

    /// What `jsonb`'s text output looks like (spaces after `:` and `,`, members reordered).
    @Test func readsPostgresJSONBOutput() throws {
        let text = """
            {"version": 3, "orderId": "o-1", "customerId": "c-1", "totalCents": 300, "currency": "EUR", \
            "stock": [{"sku": "a", "status": "RESERVED", "quantity": 2, "releaseRequested": false}], \
            "payment": "NOT_REQUESTED", "refundRequested": false, "state": "RUNNING", "step": "RESERVE_STOCK", \
            "attempt": 1, "deadline": "2027-01-15T08:00:30.000Z", "stepCause": "e621e1f8-c36c-495a-93fc-0c247a3e6e5f", \
            "notified": [], "steps": [{"at": "2027-01-15T08:00:00.000Z", "seq": 1, "name": "RESERVE_STOCK", \
            "status": "RUNNING"}], "startedAt": "2027-01-15T08:00:00.000Z", "unknownMember": {"ignored": [1, 2.5e3]}}
            """
        let saga = try Saga(jsonText: text)
        #expect(saga.stock.first?.status == .reserved && saga.step == .reserveStock && saga.endedAt == nil)
        #expect(saga.stepCause == UUID(uuidString: "E621E1F8-C36C-495A-93FC-0C247A3E6E5F"))
        #expect(try MessageJSON.decoder().decode(Saga.self, from: Data(text.utf8)) == saga)
    }

    /// As strict as the synthesized decoder: a missing member, a wrong type or an unknown enum
    /// value fails, and the error names the member.
    @Test func rejectsWhatCodableRejects() throws {
        var writer = JSONTextWriter()
        Self.samples()[2].write(to: &writer)
        let good = writer.text
        for (broken, location) in [
            (good.replacingOccurrences(of: #""version":"#, with: #""versio":"#), "$.version"),
            (good.replacingOccurrences(of: #""attempt":1"#, with: #""attempt":"1""#), "$.attempt"),
            (good.replacingOccurrences(of: #""state":"RUNNING""#, with: #""state":"WALKING""#), "$.state"),
            (good.replacingOccurrences(of: #""seq":1"#, with: #""seq":1.5"#), "$.steps[0].seq"),
            (good.replacingOccurrences(of: #""startedAt":""#, with: #""startedAt":"yesterday"#), "$.startedAt"),
        ] {
            #expect(broken != good)
            #expect((try? MessageJSON.decoder().decode(Saga.self, from: Data(broken.utf8))) == nil, "\(broken)")
            let error = #expect(throws: JSONTextError.self) { try Saga(jsonText: broken) }
            #expect(error?.location.hasPrefix(location) == true, "\(String(describing: error)) for \(broken)")
        }
    }
}
