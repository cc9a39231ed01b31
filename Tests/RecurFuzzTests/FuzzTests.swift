import Foundation
import RecurFuzzing
import Testing

/// Every loader meets mutated files: each must accept or throw, never trap.
///
/// The same harness runs longer, under AddressSanitizer, in CI (`recur-fuzz`, see .ci/run).
@Suite("Fuzzing the loaders", .serialized)
struct FuzzTests {
    @Test(
        "mutated inputs are accepted or rejected with an error, never a trap",
        arguments: FuzzTarget.allCases)
    func target(_ target: FuzzTarget) throws {
        let harness = try FuzzHarness(directory: NSTemporaryDirectory())
        let iterations =
            Int(ProcessInfo.processInfo.environment["RECUR_FUZZ_ITERATIONS"] ?? "") ?? 300
        let report = harness.run(target, iterations: iterations, seed: 20261202)
        #expect(report.inputs > iterations)
        // The seeds themselves load (so the mutations start from valid files) and the mutations
        // are mostly rejected (so they reach the validation).
        #expect(report.accepted >= 1, "\(report)")
        #expect(report.rejected >= 1, "\(report)")
    }
}
