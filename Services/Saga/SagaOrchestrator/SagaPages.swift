import Contracts
import Foundation
import HTTPServer
import Messaging
import SagaDomain

/// The orchestrator's HTML pages, rendered on the server without JavaScript: `/ui/sagas` (a list
/// with state filters, the stuck ones first) and `/ui/sagas/{orderId}` (one saga's timeline).
/// Pure: the HTML is a function of the sagas and the time; every text from the data is escaped.
enum SagaPages {
    /// A list page: the stuck sagas (RUNNING and started longer than `stuckAfter` ago), oldest
    /// first, then the others as listed.
    static func list(stuck: [Saga], others: [Saga], state: SagaState?, now: Date, stuckAfter: Duration) -> String {
        var html = page(title: "Sagas")
        html += "<h1>Sagas</h1>\n<nav class=\"filters\">State: "
        html += link("/ui/sagas", "all", current: state == nil)
        for option in SagaState.allCases {
            html += " · " + link("/ui/sagas?state=\(option.rawValue)", option.rawValue, current: state == option)
        }
        html += "</nav>\n"
        let seconds = Int(stuckAfter.components.seconds)
        html += "<h2 id=\"stuck\">Stuck: running for more than \(seconds) s (\(stuck.count))</h2>\n"
        html += stuck.isEmpty ? "<p class=\"none\">None.</p>\n" : table(stuck, now: now, stuck: true)
        html += "<h2 id=\"sagas\">\(state.map { escape($0.rawValue) } ?? "All") (\(others.count))</h2>\n"
        html += others.isEmpty ? "<p class=\"none\">None.</p>\n" : table(others, now: now, stuck: false)
        return html + "</body>\n</html>\n"
    }

    static func table(_ sagas: [Saga], now: Date, stuck: Bool) -> String {
        var html =
            "<table class=\"sagas\">\n<tr><th>order</th><th>state</th><th>step</th><th>attempt</th><th>started</th>"
        html += "<th>age</th><th>ended</th></tr>\n"
        for saga in sagas {
            html += "<tr class=\"saga \(saga.state.rawValue.lowercased())\(stuck ? " stuck" : "")\">"
            html +=
                "<td><a href=\"/ui/sagas/\(PercentEncoding.pathSegment(saga.orderId))\">\(escape(saga.orderId))</a></td>"
            html += "<td class=\"state\">\(saga.state.rawValue)</td><td>\(saga.step?.rawValue ?? "—")</td>"
            html += "<td>\(saga.attempt)</td><td>\(Timestamp.format(saga.startedAt))</td>"
            html += "<td>\(age(from: saga.startedAt, to: saga.endedAt ?? now))</td>"
            html += "<td>\(saga.endedAt.map(Timestamp.format) ?? "—")</td></tr>\n"
        }
        return html + "</table>\n"
    }

    /// One saga: its facts, its trace id, and the timeline of its steps and compensations with
    /// the messages each sent and the replies recorded.
    static func detail(_ saga: Saga, steps: [SagaStepRecord], now: Date, stuckAfter: Duration) -> String {
        var html = page(title: "Saga \(saga.orderId)")
        let stuck =
            saga.state == .running && now.timeIntervalSince(saga.startedAt) > Double(stuckAfter.components.seconds)
        html += "<p><a href=\"/ui/sagas\">All sagas</a></p>\n"
        html += "<h1>Saga <span class=\"order\">\(escape(saga.orderId))</span></h1>\n"
        html += "<dl class=\"facts\">"
        html +=
            "<dt>state</dt><dd class=\"state\">\(saga.state.rawValue)\(stuck ? " <strong class=\"stuck\">stuck</strong>" : "")</dd>"
        html += "<dt>customer</dt><dd>\(escape(saga.customerId))</dd>"
        html += "<dt>total</dt><dd>\(saga.totalCents) \(escape(saga.currency))</dd>"
        html += "<dt>current step</dt><dd>\(saga.step?.rawValue ?? "—") (attempt \(saga.attempt))</dd>"
        html += "<dt>deadline</dt><dd>\(saga.deadline.map(Timestamp.format) ?? "—")</dd>"
        html += "<dt>started</dt><dd>\(Timestamp.format(saga.startedAt))</dd>"
        html += "<dt>ended</dt><dd>\(saga.endedAt.map(Timestamp.format) ?? "—")</dd>"
        html += "<dt>trace id</dt><dd class=\"trace\">\(saga.traceId.map(escape) ?? "—")</dd>"
        if let reason = saga.rejectReason { html += "<dt>reason</dt><dd>\(reason.rawValue)</dd>" }
        if let failure = saga.failure { html += "<dt>failure</dt><dd>\(escape(failure))</dd>" }
        html += "</dl>\n<h2>Timeline</h2>\n<ol class=\"timeline\">\n"
        for record in steps {
            let compensation = record.name == .releaseStock || record.name == .refundPayment
            html += "<li class=\"step \(record.status.rawValue.lowercased())\(compensation ? " compensation" : "")\">"
            html += "<time>\(Timestamp.format(record.at))</time> <span class=\"name\">\(record.name.rawValue)</span> "
            html += "<span class=\"status\">\(record.status.rawValue)</span>"
            if compensation { html += " <em>compensation</em>" }
            if record.name == saga.step && saga.state == .running {
                html += " <span class=\"attempt\">attempt \(saga.attempt)</span>"
            }
            html += "<div class=\"messages\">\(messages(for: record.name, saga))</div></li>\n"
        }
        return html + "</ol>\n</body>\n</html>\n"
    }

    /// What a step sent and what came back, from the saga's state.
    static func messages(for step: SagaStepName, _ saga: Saga) -> String {
        switch step {
        case .reserveStock:
            return saga.stock.map {
                "sent ReserveStock \(escape($0.sku)) × \($0.quantity); reply: \($0.status.rawValue)"
            }.joined(separator: "<br>")
        case .authorizePayment:
            return "sent AuthorizePayment \(saga.totalCents) \(escape(saga.currency)); reply: \(saga.payment.rawValue)"
        case .approveOrder: return "sent ApproveOrder; reply: OrderApproved when the order service applied it"
        case .rejectOrder: return "sent RejectOrder\(saga.rejectReason.map { " (\($0.rawValue))" } ?? "")"
        case .cancelOrder: return "sent CompleteCancellation"
        case .releaseStock:
            return saga.stock.filter(\.releaseRequested).map { "sent ReleaseStock \(escape($0.sku))" }.joined(
                separator: "<br>")
        case .refundPayment: return "sent RefundPayment \(saga.totalCents) \(escape(saga.currency))"
        }
    }

    static func page(title: String) -> String {
        """
        <!doctype html>
        <html lang="en">
        <head><meta charset="utf-8"><title>\(escape(title))</title>
        <style>
        body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}
        table{border-collapse:collapse}td,th{padding:.25em .75em;border-bottom:1px solid #ddd;text-align:left}
        tr.stuck td{background:#fff3cd}.state{font-weight:600}.none{color:#777}
        .filters a.current{font-weight:700;text-decoration:none;color:#222}
        dl.facts{display:grid;grid-template-columns:max-content auto;gap:.2em 1em}dt{color:#666}
        ol.timeline li{margin:.5em 0}.timeline time{color:#666}.compensation{color:#8a4b00}
        .failed,.timed_out,.stalled{color:#b00020}.messages{color:#444;margin-left:1em;font-size:13px}
        strong.stuck{color:#b00020}
        </style></head>
        <body>

        """
    }

    static func link(_ href: String, _ text: String, current: Bool) -> String {
        "<a href=\"\(escape(href))\"\(current ? " class=\"current\"" : "")>\(escape(text))</a>"
    }

    static func age(from start: Date, to end: Date) -> String {
        let seconds = max(0, Int(end.timeIntervalSince(start)))
        return seconds < 120 ? "\(seconds) s" : seconds < 7200 ? "\(seconds / 60) min" : "\(seconds / 3600) h"
    }

    /// Text for HTML content and attribute values.
    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(character)
            }
        }
        return out
    }
}
