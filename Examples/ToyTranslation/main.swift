// Train an attention seq2seq translator with Recur's library API, then translate with beam search.
//
//   swift run -c release ToyTranslationExample [PAIRS] [EPOCHS] [OUT]
//   (default: corpora/translation.tsv, 4 epochs, runs/toy-translation)

import RecurSeq2Seq
import RecurTensor
import RecurText

#if canImport(Glibc)
    import Glibc
#endif

let arguments = CommandLine.arguments
let path = arguments.count > 1 ? arguments[1] : "corpora/translation.tsv"
let epochs = arguments.count > 2 ? Int(arguments[2]) ?? 4 : 4
let out = arguments.count > 3 ? arguments[3] : "runs/toy-translation"
ThreadPool.shared.bindCallingThread()

do {
    // Tab-separated pairs, lower-cased and split into words and punctuation.
    var config = Seq2SeqTrainingConfig()
    config.epochs = epochs
    config.learningRate = 2e-3
    let corpus = try ParallelCorpus.load(
        path: path, tokenizer: WordTokenizer(config.tokenization), maxLength: config.maxLength)
    let data = Seq2SeqData(corpus: corpus, config: config)
    print(
        "\(data.train.count) training pairs; vocabularies \(data.sourceVocabulary.count) / \(data.targetVocabulary.count)"
    )

    // A GRU encoder-decoder with Luong "general" attention.
    var architecture = Seq2SeqArchitecture()
    architecture.sourceVocabularySize = data.sourceVocabulary.count
    architecture.targetVocabularySize = data.targetVocabulary.count
    architecture.embeddingSize = 64
    architecture.hiddenSize = 128
    var rng = Xoshiro256(seed: config.seed)
    let model = Seq2SeqModel(architecture: architecture, rng: &rng)

    // Adam, clipping, validation BLEU after each epoch, checkpoints in `out`.
    let trainer = try Seq2SeqTrainer(
        model: model, data: data, config: config, outputDirectory: out, dataPath: path,
        dataPairs: corpus.pairs.count)
    let summary = try trainer.run(report: { event in
        if case .evaluation(let epoch, let loss, let bleu, _) = event {
            print("epoch \(epoch): validation loss \(loss), BLEU \(bleu)")
        }
    })
    print("trained \(summary.steps) steps at \(Int(summary.pairsPerSecond)) pairs/s")

    // Translate with beam search: words → ids → hypotheses → words.
    model.eval()
    let sentences = [
        "The small cat sees the white car.", "My neighbours do not read these old letters.",
    ]
    let ids = sentences.map {
        data.sourceVocabulary.encode(WordTokenizer(config.tokenization).tokens($0)).ids
    }
    var options = DecodingOptions(beam: 5)
    options.lengthPenalty = 0.6
    for (sentence, hypotheses) in zip(sentences, model.translate(ids, options: options)) {
        let words = data.targetVocabulary.decode(hypotheses[0].tokens)
        print("\(sentence) → \(words.joined(separator: " "))")
    }

    // Corpus BLEU and chrF on the validation pairs, as sacreBLEU computes them.
    let scores = TranslationEvaluation.score(
        model: model, pairs: data.validation, source: data.sourceVocabulary,
        target: data.targetVocabulary, options: options)
    print(scores.bleu)
    print("chrF2 = \(scores.chrF.score)")
} catch {
    print("error: \(error)")
    exit(1)
}
