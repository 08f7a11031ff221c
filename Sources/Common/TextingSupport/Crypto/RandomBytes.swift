import CCrypto

/// Random bytes from OpenSSL's generator, for secrets.
public enum RandomBytes {
    /// `count` random bytes. The corresponding C function is `RAND_bytes`; it fails only when
    /// OpenSSL cannot seed itself, and a secret must then not be made at all (a trap).
    public static func make(_ count: Int) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        let filled = bytes.withUnsafeMutableBufferPointer { RAND_bytes($0.baseAddress, Int32($0.count)) }
        precondition(filled == 1 || count == 0, "RAND_bytes failed: no secure random bytes")
        return bytes
    }
}
