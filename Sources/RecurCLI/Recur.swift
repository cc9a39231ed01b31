import ArgumentParser

/// The `recur` command: character language models, word embeddings and toy translation on a
/// CPU tensor core.
@main
struct Recur: ParsableCommand {
    static let version = "0.1.0"

    static let configuration = CommandConfiguration(
        commandName: "recur",
        abstract: "Recurrent sequence models, word2vec and seq2seq on the CPU.",
        discussion: """
            Jobs:
              recur charlm train --data FILE       train a character language model
              recur charlm sample --model DIR      generate text from it
              recur word2vec train --data FILE     train word embeddings
              recur translate train --pairs FILE   train a toy translation model
              recur translate run --model DIR      translate lines from stdin
            """,
        version: version,
        subcommands: [CharLMCommand.self, Word2VecCommand.self, TranslateCommand.self, CorpusCommand.self, BenchCommand.self]
    )
}
