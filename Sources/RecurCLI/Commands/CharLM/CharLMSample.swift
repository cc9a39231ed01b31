import ArgumentParser
import RecurCharLM
import RecurNN
import RecurReport
import RecurTensor
import RecurText

#if canImport(Glibc)
    import Glibc
#endif

struct CharLMSample: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sample", abstract: "Generate text from a trained character language model.")

    @Option(
        help:
            "Checkpoint directory (a training --out, or its best/ copy), or one model-<step>.safetensors kept with --keep."
    )
    var model: String
    @Option(help: "Symbols to generate.") var length: Int = 1000
    @Option(help: "Softmax temperature (lower: more conservative).") var temperature: Float = 1
    @Option(help: "Sample among the k most likely symbols only (0: all).") var topK: Int = 0
    @Option(help: "Nucleus sampling: the smallest set with this much probability (1: all).")
    var topP: Float = 1
    @Option(help: "Text to start from.") var prime: String = ""
    @Flag(help: "Always take the most likely symbol.") var argmax = false
    @Option(help: "Random seed.") var seed: UInt64 = 1
    @OptionGroup var runtime: RuntimeOptions

    func validate() throws {
        if length < 0 || length > 1 << 40 {
            throw CLIError("--length must be between 0 and 2^40, got \(length)")
        }
        if !(temperature > 0 && temperature.isFinite) {
            throw CLIError("--temperature must be positive, got \(temperature)")
        }
        if topK < 0 { throw CLIError("--top-k must not be negative, got \(topK)") }
        if !(topP > 0 && topP <= 1) { throw CLIError("--top-p must be in (0, 1], got \(topP)") }
    }

    func run() throws {
        // One stream is a chain of small steps: a second thread adds a synchronization per step
        // and gains nothing (and beside other work it costs much), so sampling uses one thread
        // unless --threads says otherwise.
        runtime.apply(defaultThreads: 1)
        let loaded = try CharLMStore.load(directory: model)
        let sampler = CharLMSampler(model: loaded.model, vocabulary: loaded.config.vocabulary)
        var rng = Xoshiro256(seed: seed)
        // On a terminal each symbol appears as it is chosen; into a pipe, in 64 KiB writes.
        let streaming = isatty(STDOUT_FILENO) != 0
        var buffer: [UInt8] = Array(prime.utf8)
        let unknown = sampler.generate(
            length: length, prime: prime,
            options: SamplingOptions(
                temperature: temperature, topK: topK, topP: topP, argmax: argmax), rng: &rng
        ) { bytes in
            buffer += bytes
            if streaming || buffer.count >= 1 << 16 {
                Output.write(buffer)
                buffer.removeAll(keepingCapacity: true)
            }
        }
        Output.write(buffer + [0x0A])
        if unknown > 0 {
            Output.error(
                "note: \(unknown) symbol\(unknown == 1 ? "" : "s") of --prime are not in the model's vocabulary (fed as <unk>)\n"
            )
        }
    }
}
