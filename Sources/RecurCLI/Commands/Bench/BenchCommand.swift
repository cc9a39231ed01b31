import ArgumentParser
import BLASDirect
import RecurBase
import RecurTensor

#if canImport(Glibc)
    import Glibc
#endif

/// `recur bench …`: micro-benchmarks of the tensor core against their peers, in one run.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Benchmark the tensor core against its peers (B0 in BENCHMARKS.md).",
        subcommands: [GemmBench.self, ActivationBench.self]
    )
}

/// Best-of-`rounds` seconds per call of `body`, each round long enough to time reliably.
func bestSecondsPerCall(rounds: Int = 5, minimumSeconds: Double = 0.05, _ body: () -> Void)
    -> Double
{
    body()
    var repeats = 1
    while true {
        let start = MonotonicClock.seconds()
        for _ in 0..<repeats { body() }
        let elapsed = MonotonicClock.seconds() - start
        if elapsed >= minimumSeconds || repeats >= 1 << 20 { break }
        repeats *= 2
    }
    var best = Double.infinity
    for _ in 0..<rounds {
        let start = MonotonicClock.seconds()
        for _ in 0..<repeats { body() }
        best = min(best, (MonotonicClock.seconds() - start) / Double(repeats))
    }
    return best
}
