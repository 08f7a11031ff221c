/// How a text will be split into SMS segments, computed up front so the API can report the
/// cost of a message and the sender never has to guess what the provider will bill.
public struct SMSSegmentation: Sendable, Equatable {
    /// GSM-7 when every character is in the GSM 03.38 alphabet, otherwise UCS-2.
    public let encoding: SMSEncoding
    /// Number of segments the text occupies; an empty text still counts as one.
    public let segments: Int
    /// Septets for GSM-7, UTF-16 code units for UCS-2.
    public let units: Int

    /// Packs greedily as handsets do: once a text needs several segments each one loses room
    /// to the concatenation header, and an escape pair or surrogate pair is never split.
    public init(text: String) {
        var gsmCosts: [Int] = []
        for scalar in text.unicodeScalars {
            if Self.gsmBasic.contains(scalar) {
                gsmCosts.append(1)
            } else if Self.gsmExtension.contains(scalar) {
                gsmCosts.append(2)
            } else {
                // Not GSM-7: every scalar costs its UTF-16 length (2 for a surrogate pair).
                let costs = text.unicodeScalars.map { $0.utf16.count }
                self.init(encoding: .ucs2, costs: costs, single: 70, multipart: 67)
                return
            }
        }
        self.init(encoding: .gsm7, costs: gsmCosts, single: 160, multipart: 153)
    }

    private init(encoding: SMSEncoding, costs: [Int], single: Int, multipart: Int) {
        let total = costs.reduce(0, +)
        var segments = 1
        if total > single {
            var used = 0
            for cost in costs {
                if used + cost > multipart {
                    segments += 1
                    used = cost
                } else {
                    used += cost
                }
            }
        }
        self.encoding = encoding
        self.segments = segments
        self.units = total
    }

    /// The GSM 03.38 default alphabet, in table order (ESC at 0x1B is left out: it only
    /// introduces the extension table).
    private static let gsmBasic: Set<Unicode.Scalar> = Set(
        ("@£$¥èéùìòÇ\nØø\rÅå"
            + "Δ_ΦΓΛΩΠΨΣΘΞÆæßÉ"
            + " !\"#¤%&'()*+,-./"
            + "0123456789:;<=>?"
            + "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§"
            + "¿abcdefghijklmnopqrstuvwxyzäöñüà").unicodeScalars
    )

    /// The extension table: each is sent as ESC plus one septet, so it costs two.
    private static let gsmExtension: Set<Unicode.Scalar> = Set("\u{0C}^{}\\[~]|€".unicodeScalars)
}
