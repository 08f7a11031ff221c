/// RFC 9110's `token`, what a method or a header name must be: one or more visible ASCII
/// characters other than delimiters. One rule for what we send (`HTTPTransfer`) and what a
/// FastCGI peer hands us (`FastCGIParameters`).
public enum HTTPToken {
    @inlinable
    public static func isToken<C: Collection<UInt8>>(_ bytes: C) -> Bool {
        !bytes.isEmpty && bytes.allSatisfy(isTokenByte)
    }

    @inlinable
    public static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"):
            true
        default:
            "!#$%&'*+-.^_`|~".utf8.contains(byte)
        }
    }
}
