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
        gsmCosts.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            // Most texts are ASCII: a table lookup, not a hash of each character.
            let cost = scalar.value < 128 ? Int(Self.asciiCosts[Int(scalar.value)]) : Self.cost(of: scalar)
            guard cost > 0 else {
                // Not GSM-7: every scalar costs its UTF-16 length (2 for a surrogate pair).
                let costs = text.unicodeScalars.map { $0.utf16.count }
                self.init(encoding: .ucs2, costs: costs, single: 70, multipart: 67)
                return
            }
            gsmCosts.append(cost)
        }
        self.init(encoding: .gsm7, costs: gsmCosts, single: 160, multipart: 153)
    }

    /// Septets a character costs in GSM-7: 1 in the basic alphabet, 2 in the extension table
    /// (escaped), 0 when GSM-7 cannot carry it.
    private static func cost(of scalar: Unicode.Scalar) -> Int {
        gsmBasic.contains(scalar) ? 1 : gsmExtension.contains(scalar) ? 2 : 0
    }

    /// `cost(of:)` for the 128 ASCII characters, computed once from the same sets.
    private static let asciiCosts: [UInt8] = (0..<128).map { UInt8(cost(of: Unicode.Scalar(UInt8($0)))) }

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
