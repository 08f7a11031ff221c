import CCrypto
import FoundationEssentials

/// UUIDs in bulk from OpenSSL's generator: one call for a whole batch of accepted messages, in
/// user space. Random ones (version 4), and time-ordered ones (version 7) for ids that are
/// indexed as they are made. (Foundation's `UUID()` opens, reads and closes
/// /dev/urandom for each one: three system calls per accepted message.)
public enum RandomUUID {
    /// `count` random UUIDs. The corresponding C function is `RAND_bytes`.
    public static func make(_ count: Int) -> [UUID] {
        randomBytes(count).map { random in
            var b = random
            b[6] = (b[6] & 0x0F) | 0x40  // version 4
            b[8] = (b[8] & 0x3F) | 0x80  // RFC 4122 variant
            return uuid(b)
        }
    }

    /// `count` time-ordered UUIDs (version 7, RFC 9562): the first 48 bits are `milliseconds`
    /// since the Unix epoch, so ids made later sort later and a B-tree of them grows at its
    /// right edge instead of touching pages all over; the next 12 bits count up within the
    /// batch (its first 4,096 sort in the order given), the last 62 are random.
    public static func makeTimeOrdered(_ count: Int, milliseconds: Int64) -> [UUID] {
        let time = UInt64(max(0, min(milliseconds, (1 << 48) - 1)))
        return randomBytes(count).enumerated().map { index, random in
            var b = random
            for byte in 0..<6 { b[byte] = UInt8(truncatingIfNeeded: time >> (40 - 8 * UInt64(byte))) }
            let sequence = UInt16(min(index, 0xFFF))
            b[6] = 0x70 | UInt8(sequence >> 8)  // version 7
            b[7] = UInt8(truncatingIfNeeded: sequence)
            b[8] = (b[8] & 0x3F) | 0x80  // RFC 9562 variant
            return uuid(b)
        }
    }

    /// The Unix milliseconds a version 7 UUID names, nil for another version.
    public static func milliseconds(of id: UUID) -> Int64? {
        let u = id.uuid
        guard u.6 >> 4 == 7 else { return nil }
        return [u.0, u.1, u.2, u.3, u.4, u.5].reduce(Int64(0)) { $0 << 8 | Int64($1) }
    }

    private static func uuid(_ b: [UInt8]) -> UUID {
        UUID(uuid: (b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]))
    }

    /// 16 random bytes per UUID.
    private static func randomBytes(_ count: Int) -> [[UInt8]] {
        guard count > 0 else { return [] }
        var bytes = [UInt8](repeating: 0, count: count * 16)
        let filled = bytes.withUnsafeMutableBufferPointer { RAND_bytes($0.baseAddress, Int32($0.count)) }
        guard filled == 1 else {
            // OpenSSL could not seed itself (it does not happen on Linux); Foundation's way still works.
            return (0..<count).map { _ in
                let u = UUID().uuid
                return [u.0, u.1, u.2, u.3, u.4, u.5, u.6, u.7, u.8, u.9, u.10, u.11, u.12, u.13, u.14, u.15]
            }
        }
        return (0..<count).map { index in Array(bytes[(index * 16)..<(index * 16 + 16)]) }
    }
}
