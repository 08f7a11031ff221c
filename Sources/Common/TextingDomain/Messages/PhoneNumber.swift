/// A destination number normalised to E.164, so that the same handset is always stored,
/// compared and sent to under one spelling whatever punctuation the client used.
public struct PhoneNumber: Sendable, Hashable, CustomStringConvertible {
    /// The canonical form, e.g. `+15555550100`; providers and the database only ever see this.
    public let e164: String

    /// Accepts what people type (spaces, dashes, dots, parentheses) and gives numbers without
    /// a leading `+` the deployment's default country code, so local clients need not know E.164.
    /// - Parameter defaultCountryCode: digits only, e.g. `1` or `44`; check it at start-up
    ///   with ``isValidCountryCode(_:)``.
    /// - Parameter field: the field an error names.
    public init(parsing raw: String, defaultCountryCode: String, field: String = "to_number") throws(ValidationError) {
        var scalars = Array(raw.unicodeScalars.filter { !Self.separators.contains($0) })
        let international = scalars.first == "+"
        if international {
            scalars.removeFirst()
        } else {
            guard Self.isValidCountryCode(defaultCountryCode) else {
                throw Self.invalid(raw, defaultCountryCode: defaultCountryCode, field: field)
            }
            scalars.insert(contentsOf: defaultCountryCode.unicodeScalars, at: 0)
        }
        guard Self.isValidE164Digits(scalars) else {
            throw Self.invalid(raw, defaultCountryCode: defaultCountryCode, field: field)
        }
        var canonical = "+"
        canonical.unicodeScalars.append(contentsOf: scalars)
        e164 = canonical
    }

    public var description: String { e164 }

    /// Lets configuration checking reject a bad default country code before any request
    /// depends on it: 1 to 3 digits, not starting with 0 (ITU-T E.164 country codes).
    public static func isValidCountryCode(_ s: String) -> Bool {
        let scalars = Array(s.unicodeScalars)
        guard (1...3).contains(scalars.count), scalars.allSatisfy(isASCIIDigit) else { return false }
        return scalars[0] != "0"
    }

    /// Punctuation people put in numbers that carries no meaning.
    private static let separators: Set<Unicode.Scalar> = [
        " ", "\t", "-", ".", "(", ")",
        "\u{00A0}",  // no-break space
        "\u{2009}",  // thin space
        "\u{202F}",  // narrow no-break space
    ]

    /// E.164 allows at most 15 digits; fewer than 7 cannot be a routable subscriber number.
    private static let digitCount = 7...15

    private static func isASCIIDigit(_ scalar: Unicode.Scalar) -> Bool {
        ("0"..."9").contains(scalar)
    }

    private static func isValidE164Digits(_ digits: [Unicode.Scalar]) -> Bool {
        guard digitCount.contains(digits.count), digits.allSatisfy(isASCIIDigit), digits[0] != "0" else {
            return false
        }
        // Country code 1 is the North American Numbering Plan: always 1 + ten digits.
        if digits[0] == "1" { return digits.count == 11 }
        return true
    }

    /// The raw input is echoed so the client can see what we received, but capped so a huge
    /// or hostile value does not bloat the error document.
    private static func invalid(_ raw: String, defaultCountryCode: String, field: String) -> ValidationError {
        let shown = raw.count > 32 ? String(raw.prefix(31)) + "…" : raw
        return ValidationError(
            field: field,
            code: .invalidPhoneNumber,
            detail: "`\(field)` must be an E.164 number such as +15555550100, or a national number "
                + "that takes the default country code +\(defaultCountryCode); got `\(shown)`."
        )
    }
}
