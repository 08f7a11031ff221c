import CCrypto

/// SHA-256 and HMAC-SHA-256 from libcrypto, and the constant-time comparison that checking
/// a signature needs.
public enum Digest {
    /// The corresponding C function is `EVP_Digest`, with SHA-256 fetched once (`sha256MD`).
    public static func sha256(_ data: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        let ok = data.withUnsafeBufferPointer { input in
            out.withUnsafeMutableBufferPointer { texting_sha256(sha256MD.pointer, input.baseAddress, input.count, $0.baseAddress) }
        }
        precondition(ok == 1, "EVP_Digest(SHA-256) failed")
        return out
    }

    /// The corresponding C function is `HMAC`, with SHA-256 fetched once (`sha256MD`): every
    /// webhook delivery and every provider callback's signature is one.
    public static func hmacSHA256(key: [UInt8], data: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        let ok = key.withUnsafeBufferPointer { keyBuffer in
            data.withUnsafeBufferPointer { input in
                out.withUnsafeMutableBufferPointer {
                    texting_hmac_sha256(sha256MD.pointer, keyBuffer.baseAddress, Int32(keyBuffer.count), input.baseAddress, input.count, $0.baseAddress)
                }
            }
        }
        precondition(ok == 1, "HMAC(SHA-256) failed")
        return out
    }

    /// libcrypto's SHA-256 implementation (`EVP_MD_fetch`), looked up on first use and kept
    /// for the process's life; nil only if libcrypto has no SHA-256, which `sha256` then traps on.
    private static let sha256MD = FetchedDigest(name: "SHA256")

    /// An `EVP_MD` pointer that any thread may use (libcrypto's fetched algorithms are
    /// immutable and thread-safe).
    private struct FetchedDigest: @unchecked Sendable {
        let pointer: OpaquePointer?
        init(name: String) { pointer = EVP_MD_fetch(nil, name, nil) }
    }

    public static func sha256Hex(_ data: [UInt8]) -> String { hex(sha256(data)) }

    public static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Compares without an early exit, so the time taken does not tell how much matched.
    public static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for index in a.indices { difference |= a[index] ^ b[index] }
        return difference == 0
    }
}
