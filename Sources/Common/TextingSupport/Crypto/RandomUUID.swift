import CCrypto
import FoundationEssentials

/// Random (version 4) UUIDs in bulk from OpenSSL's generator: one call for a whole batch of
/// accepted messages, in user space. (Foundation's `UUID()` opens, reads and closes
/// /dev/urandom for each one: three system calls per accepted message.)
public enum RandomUUID {
    /// `count` random UUIDs. The corresponding C function is `RAND_bytes`.
    public static func make(_ count: Int) -> [UUID] {
        guard count > 0 else { return [] }
        var bytes = [UInt8](repeating: 0, count: count * 16)
        let filled = bytes.withUnsafeMutableBufferPointer { RAND_bytes($0.baseAddress, Int32($0.count)) }
        guard filled == 1 else {
            // OpenSSL could not seed itself (it does not happen on Linux); Foundation's way still works.
            return (0..<count).map { _ in UUID() }
        }
        return (0..<count).map { index in
            var b = Array(bytes[(index * 16)..<(index * 16 + 16)])
            b[6] = (b[6] & 0x0F) | 0x40  // version 4
            b[8] = (b[8] & 0x3F) | 0x80  // RFC 4122 variant
            return UUID(uuid: (b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]))
        }
    }
}
