// Train a character language model with Recur's library API and sample from it.
//
//   swift run -c release CharLMExample [TEXT] [STEPS]      (default: corpora/prose.txt, 300)

import RecurCharLM
import RecurNN
import RecurTensor
import RecurText

#if canImport(Glibc)
    import Glibc
#endif

let arguments = CommandLine.arguments
let path = arguments.count > 1 ? arguments[1] : "corpora/prose.txt"
let steps = arguments.count > 2 ? Int(arguments[2]) ?? 300 : 300

// The main thread drives training: keep it off the worker threads' CPUs.
ThreadPool.shared.bindCallingThread()

// 1. Text → symbols (NFC grapheme clusters) → ids, split 90/10.
let corpus: CharCorpus
do {
    corpus = try CharCorpus.load(path: path, unit: .grapheme, validationFraction: 0.1)
} catch {
    print("error: \(error)")
    exit(1)
}

// 2. Embedding 32 → 2×LSTM 128 → linear decoder, with PyTorch's initializations.
var rng = Xoshiro256(seed: 42)
let model = CharLanguageModel(
    architecture: CharLMArchitecture(
        cell: .lstm, vocabularySize: corpus.vocabulary.count, embeddingSize: 32, hiddenSize: 128,
        layers: 2, dropout: 0),
    rng: &rng)
let optimizer = Adam(parameters: model.parameters(), learningRate: 3e-3)

// 3. Truncated BPTT over contiguous batches: the state carries from one window to the next.
guard let batches = ContiguousBatcher(ids: corpus.trainIDs, batch: 32, sequence: 64) else {
    print("error: the text is too short for 32 streams of 65 symbols")
    exit(1)
}
var inputs: [Int32] = []
var targets: [Int32] = []
var state: RecurrentState?
var position = 0
for step in 1...steps {
    if !batches.fits(position) {
        position = 0
        state = nil
    }
    batches.window(at: position, inputs: &inputs, targets: &targets)
    let (loss, final) = model.trainingStep(
        inputs: inputs, targets: targets, timeSteps: 64, batch: 32, state: state, rng: &rng)
    state = final?.copied()  // carry the state, detached from this step's graph
    position += 64
    GradientClipping.clipByNorm(model.parameters(), maxNorm: 5)
    optimizer.step()
    if step % 100 == 0 || step == steps {
        print("step \(step): loss \(loss), bpc \(loss / log(2))")
    }
}

// 4. Validation bits per character, then a sample.
print("validation bpc:", model.evaluate(ids: corpus.validationIDs).bitsPerSymbol)
var sample: [UInt8] = []
CharLMSampler(model: model, vocabulary: corpus.vocabulary).generate(
    length: 300, prime: "The ", options: SamplingOptions(temperature: 0.8), rng: &rng
) { sample += $0 }
print("The " + String(decoding: sample, as: UTF8.self))
