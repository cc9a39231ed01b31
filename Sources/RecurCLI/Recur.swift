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
        subcommands: [
            CharLMCommand.self, Word2VecCommand.self, TranslateCommand.self, CorpusCommand.self,
            BenchCommand.self,
        ]
    )

    /// Answers other tools' flag spellings (char-rnn's `--rnn_size`, word2vec's `-size`) with
    /// Recur's name, joins the MPI job when started by `mpirun` with several processes, then
    /// runs the command as ArgumentParser does.
    static func main() {
        let arguments = Array(CommandLine.arguments.dropFirst())
        if let hint = ForeignSpellings.hint(for: arguments) {
            if Job.prints { Output.error("Error: \(hint)\n") }
            Self.exit(withError: ExitCode(64))
        }
        var command: any ParsableCommand
        do {
            command = try parseAsRoot(arguments)
        } catch {
            // Every process parses the same arguments: the first one says what is wrong.
            if !Job.prints { Self.exit(withError: ExitCode(exitCode(for: error).rawValue)) }
            Self.exit(withError: error)
        }
        let size = Job.launchedSize()
        if size > 1 && !(command is CharLMTrain || command is TranslateTrain || command is W2VTrain)
        {
            // Only training runs over several processes; N copies of another command would
            // print (or write) the same thing N times.
            if Job.launchedRank() == 0 {
                Output.error(
                    "Error: only the train commands run over several processes; run this command as one process (without mpirun, or with -np 1)\n"
                )
            }
            Self.exit(withError: ExitCode(64))
        }
        if let refusal = Job.start() {
            // One line from the first copy; the others stop quietly with the same status.
            if Job.launchedRank() == 0 { Output.error(refusal) }
            Self.exit(withError: ExitCode(64))
        }
        do {
            try command.run()
        } catch {
            Job.exit(withError: error)
        }
        Job.finish()
    }
}
