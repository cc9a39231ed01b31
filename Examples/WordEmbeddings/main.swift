// Train word vectors with Recur's library API, query them and export them for gensim.
//
//   swift run -c release WordEmbeddingsExample [CORPUS] [OUT]
//   (default: corpora/relations.txt → relations-vectors.txt)

import RecurTensor
import RecurWord2Vec

#if canImport(Glibc)
    import Glibc
#endif

let arguments = CommandLine.arguments
let corpus = arguments.count > 1 ? arguments[1] : "corpora/relations.txt"
let output = arguments.count > 2 ? arguments[2] : "relations-vectors.txt"
ThreadPool.shared.bindCallingThread()

do {
    // Skip-gram with negative sampling, the C tool's defaults, words seen at least once.
    var configuration = Word2VecConfiguration()
    configuration.minCount = 1
    configuration.threads = ThreadPool.shared.threadCount
    let trainer = try Word2VecTrainer(corpusPath: corpus, configuration: configuration)
    print(
        "vocabulary: \(trainer.vocabulary.count) words from \(trainer.vocabulary.corpusWords) tokens"
    )

    let result = try trainer.train()
    print(
        "trained at \(Int(result.wordsPerSecond)) words/s; loss per epoch:",
        result.epochLosses.map { ($0 * 1000).rounded() / 1000 })
    let vectors = result.vectors

    // Nearest neighbours and analogies.
    for (word, similarity) in try vectors.mostSimilar(to: "paris", count: 3) {
        print("near paris: \(word) \(similarity)")
    }
    if let answer = try vectors.analogy(a: "man", b: "king", c: "woman").first {
        print("king - man + woman ≈ \(answer.word) (\(answer.score))")
    }

    // Benchmarks: the corpus's own analogy questions, when present next to it.
    let questions =
        (corpus.hasSuffix(".txt") ? String(corpus.dropLast(4)) : corpus) + "-analogies.txt"
    if let report = try? vectors.evaluateAnalogies(path: questions) {
        print(
            "analogy accuracy: \(report.accuracy) (semantic \(report.semanticAccuracy), syntactic \(report.syntacticAccuracy))"
        )
    }

    // word2vec text format: gensim's KeyedVectors.load_word2vec_format reads it.
    try vectors.write(to: output, format: .text)
    print("vectors written to \(output)")
} catch {
    print("error: \(error)")
    exit(1)
}
