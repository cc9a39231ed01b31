import RecurBase
import RecurTensor

/// The files and directories a training run writes into its `--out` (what `--force` may delete).
func isTrainingRunFile(_ name: String) -> Bool {
    let fixed: Set<String> = [
        "checkpoint.json", "metrics.jsonl", "training.svg", "bleu.svg", "best", "average",
        "valid.tsv", "test.tsv",
    ]
    if fixed.contains(name) { return true }
    return (name.hasPrefix("model-") || name.hasPrefix("training-") || name.hasPrefix("epoch-"))
        && name.hasSuffix(".safetensors")
}

/// Claims a training run's output directory: locked against a second process, refused when it
/// already holds files unless the run resumes from it or `--force` replaces it.
///
/// - Parameters:
///   - resuming: the run continues the checkpoint in `directory`.
///   - inputs: files the run reads; the output may not be one of them or contain them as run
///     files (`--data runs/x/metrics.jsonl --out runs/x --force` would delete its own input).
func claimRunDirectory(_ directory: String, resuming: Bool, force: Bool, inputs: [String]) throws
    -> RunDirectory
{
    for input in inputs {
        if SafeRead.sameFile(input, directory) {
            throw CLIError("--out \(directory) is the input file \(input); choose another --out")
        }
        for name in AtomicFile.entries(of: directory) where isTrainingRunFile(name) {
            if SafeRead.sameFile(input, directory + "/" + name) {
                throw CLIError(
                    "the input \(input) is the run file \(directory)/\(name), which this run rewrites or deletes; copy it elsewhere first"
                )
            }
        }
    }
    do {
        return try RunDirectory(
            claiming: directory, intent: resuming ? .resume : (force ? .replace : .fresh),
            isRunFile: isTrainingRunFile)
    } catch {
        throw CLIError("--out \(error.path): \(error.reason)")
    }
}

/// Refuses to resume from a run directory another process is training into (its checkpoint is
/// rewritten while this one would read it).
func refuseBusyResume(_ resume: String?) throws {
    if let resume, RunDirectory.isBusy(resume) {
        throw CLIError(
            "--resume \(resume): another recur process is training into this directory; wait for it to finish"
        )
    }
}

/// Refuses to write an output file over one of the command's inputs (`--out c.txt --data c.txt`).
func refuseOverwritingInputs(outputs: [String], inputs: [(flag: String, path: String)]) throws {
    for output in outputs {
        for input in inputs where SafeRead.sameFile(output, input.path) || output == input.path {
            throw CLIError(
                "\(output) is the \(input.flag) input; writing there would destroy it, choose another output path"
            )
        }
    }
}

/// Refuses sizes whose memory need (estimated in floating point, so it cannot overflow) exceeds
/// the machine's physical memory: `--hidden 65536 --embed 65536` must be one clear line, not an
/// allocation failure in the middle of building the model.
func checkMemory(bytes: Double, what: String) throws {
    let physical = Double(physicalMemoryBytes)
    guard physical > 0, bytes > physical else { return }
    func gib(_ b: Double) -> String { Console.fixed(b / Double(1 << 30), 1) + " GiB" }
    throw CLIError(
        "\(what) needs about \(gib(bytes)) of memory, more than this machine's \(gib(physical)); choose smaller sizes"
    )
}
