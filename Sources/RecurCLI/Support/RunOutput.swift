import RecurTensor

/// The files and directories a training run writes into its `--out` (what `--force` may delete).
func isTrainingRunFile(_ name: String) -> Bool {
    let fixed: Set<String> = [
        "checkpoint.json", "metrics.jsonl", "training.svg", "bleu.svg", "best", "valid.tsv", "test.tsv",
    ]
    if fixed.contains(name) { return true }
    return (name.hasPrefix("model-") || name.hasPrefix("training-")) && name.hasSuffix(".safetensors")
}

/// Claims a training run's output directory: locked against a second process, refused when it
/// already holds files unless the run resumes from it or `--force` replaces it.
///
/// - Parameters:
///   - resuming: the run continues the checkpoint in `directory`.
///   - inputs: files the run reads; the output may not be one of them or contain them as run
///     files (`--data runs/x/metrics.jsonl --out runs/x --force` would delete its own input).
func claimRunDirectory(_ directory: String, resuming: Bool, force: Bool, inputs: [String]) throws -> RunDirectory {
    for input in inputs {
        if SafeRead.sameFile(input, directory) {
            throw CLIError("--out \(directory) is the input file \(input); choose another --out")
        }
        for name in AtomicFile.entries(of: directory) where isTrainingRunFile(name) && force {
            if SafeRead.sameFile(input, directory + "/" + name) {
                throw CLIError("--force would delete the input \(input) (it is \(directory)/\(name)); choose another --out")
            }
        }
    }
    do {
        return try RunDirectory(
            claiming: directory, intent: resuming ? .resume : (force ? .replace : .fresh), isRunFile: isTrainingRunFile)
    } catch {
        throw CLIError("--out \(error.path): \(error.reason)")
    }
}

/// Refuses to write an output file over one of the command's inputs (`--out c.txt --data c.txt`).
func refuseOverwritingInputs(outputs: [String], inputs: [(flag: String, path: String)]) throws {
    for output in outputs {
        for input in inputs where SafeRead.sameFile(output, input.path) || output == input.path {
            throw CLIError("\(output) is the \(input.flag) input; writing there would destroy it, choose another output path")
        }
    }
}
