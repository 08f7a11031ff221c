/// nginx's smooth weighted round-robin: traffic follows the weights exactly over each cycle
/// and is interleaved rather than sent in bursts, so a 5:1 pair never sends five in a row
/// more than the weights demand.
public struct SmoothWeightedRoundRobin: Sendable {
    private let weights: [Int]
    private var current: [Int]

    /// One weight per provider, by index; negative weights count as zero.
    public init(weights: [Int]) {
        self.weights = weights.map { max(0, $0) }
        self.current = Array(repeating: 0, count: weights.count)
    }

    /// Picks the next index. `excluded` lets a caller skip providers already tried for this
    /// message (or known to be down) while the others keep their fair shares.
    /// - Returns: nil when every index is excluded (or there are none).
    public mutating func next(excluding excluded: Set<Int> = []) -> Int? {
        var total = 0
        var best: Int?
        for index in weights.indices where !excluded.contains(index) {
            current[index] += weights[index]
            total += weights[index]
            if best.map({ current[index] > current[$0] }) ?? true {
                best = index
            }
        }
        guard let best else { return nil }
        current[best] -= total
        return best
    }
}
