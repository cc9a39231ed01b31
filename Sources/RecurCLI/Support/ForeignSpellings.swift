/// Flags spelled the way char-rnn, the word2vec C tool or Python scripts spell them, with
/// Recur's name for each: `--rnn_size 512` is answered with "recur calls it --hidden" instead of
/// a bare "unknown option".
enum ForeignSpellings {
    static let names: [String: String] = [
        // char-rnn (train.lua, sample.lua)
        "rnn_size": "--hidden", "num_layers": "--layers", "seq_length": "--seq",
        "batch_size": "--batch",
        "learning_rate": "--lr", "max_epochs": "--epochs", "grad_clip": "--clip",
        "data_dir": "--data",
        "checkpoint_dir": "--out", "init_from": "--resume", "eval_val_every": "--eval-every",
        "primetext": "--prime",
        "model": "--cell (for train) or --model DIR (for sample)",
        "gpuid": "nothing (Recur runs on the CPU; --threads N)",
        "train_frac": "--val-fraction (the held-out share)", "val_frac": "--val-fraction",
        // word2vec C tool
        "train": "--data", "output": "--out", "size": "--dim", "iter": "--epochs", "alpha": "--lr",
        "min-count": "--min-count", "threads": "--threads", "cbow": "--cbow", "hs": "--hs",
        "binary": "--binary",
        "save-vocab": "--save-vocab", "read-vocab": "--read-vocab", "window": "--window",
        "negative": "--negative",
        "sample": "--sample",
        // Python-style spellings of Recur's own flags
        "val_fraction": "--val-fraction", "valid_fraction": "--valid-fraction",
        "eval_every": "--eval-every",
        "checkpoint_every": "--checkpoint-every", "log_every": "--log-every",
        "weight_decay": "--weight-decay",
        "lr_schedule": "--lr-schedule", "top_k": "--top-k", "top_p": "--top-p",
        "min_count": "--min-count",
        "max_length": "--max-length", "tie_embeddings": "--tie-embeddings",
        "teacher_forcing": "--teacher-forcing",
        "source_vectors": "--source-vectors", "target_vectors": "--target-vectors",
        "max_vocab": "--max-vocab",
        "save_vocab": "--save-vocab", "read_vocab": "--read-vocab", "n_best": "--n-best",
        "length_penalty": "--length-penalty",
    ]

    /// A one-line hint for the first argument that is another tool's spelling, or nil.
    ///
    /// Recur's flags are `--words-with-dashes` (and `-n`, `-h`), so a single-dash word
    /// (`-size`) or a name with an underscore (`--rnn_size`) is never one of them.
    static func hint(for arguments: [String]) -> String? {
        for argument in arguments {
            if argument == "--" { return nil }
            guard argument.hasPrefix("-"), argument.count > 2 else { continue }
            let single = !argument.hasPrefix("--")
            let name = String(argument.drop(while: { $0 == "-" }).prefix { $0 != "=" })
            guard single || name.contains("_") else { continue }
            if let ours = names[name] {
                return "unknown option '\(argument)': recur calls it \(ours) (see --help)"
            }
            // Other `--names_with_underscores` get the dashed spelling; other single-dash words may
            // be values (`--prime -x`, `--lr -1e-3`) and are left to the parser.
            if !single {
                return
                    "unknown option '\(argument)': recur's flags use dashes (--\(name.replacingUnderscores()))"
            }
        }
        return nil
    }
}

extension String {
    fileprivate func replacingUnderscores() -> String { String(map { $0 == "_" ? "-" : $0 }) }
}
