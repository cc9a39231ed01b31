// recur-fuzz: runs the mutation fuzzer (RecurFuzzing) over every loader for a bounded time.
//
//     swift run -c release recur-fuzz [--seconds 10] [--seed 1] [--target NAME]
//
// CI builds it with AddressSanitizer and runs it. A crash leaves the crashing input at the path
// printed for its target; add it to Tests/RecurFuzzTests as a regression test.

import RecurFuzzing

#if canImport(Glibc)
    import Glibc
#endif

var seconds = 10.0
var seed: UInt64 = 1
var only: FuzzTarget?
var arguments = CommandLine.arguments.dropFirst()
while let flag = arguments.popFirst() {
    let value = arguments.popFirst() ?? ""
    switch flag {
    case "--seconds": seconds = Double(value) ?? seconds
    case "--seed": seed = UInt64(value) ?? seed
    case "--target":
        guard let t = FuzzTarget(rawValue: value) else {
            print(
                "unknown target \(value); targets: \(FuzzTarget.allCases.map(\.rawValue).joined(separator: ", "))"
            )
            exit(2)
        }
        only = t
    default:
        print("usage: recur-fuzz [--seconds S] [--seed N] [--target NAME]")
        exit(2)
    }
}
let harness = try FuzzHarness(directory: "/tmp")
let targets = only.map { [$0] } ?? FuzzTarget.allCases
var total = 0
for target in targets {
    print(
        "fuzzing \(target.rawValue) for \(seconds / Double(targets.count)) s (input: \(harness.inputPath(target)))"
    )
    let deadline = ContinuousClock.now + .milliseconds(Int(1000 * seconds) / targets.count)
    let report = harness.run(target, iterations: Int.max / 2, seed: seed, until: deadline)
    total += report.inputs
    print(report)
}
harness.cleanUp()
print("\(total) inputs, no crash")
