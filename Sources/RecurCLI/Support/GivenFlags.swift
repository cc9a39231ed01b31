/// Which long options the user typed, for `--resume`'s "this cannot change" checks: swift-argument-
/// parser fills defaults in without saying whether a value was given.
///
/// Both spellings count (`--batch 64` and `--batch=64`); nothing after a lone `--` is an option.
struct GivenFlags {
    private let flags: Set<String>

    init(arguments: [String] = Array(CommandLine.arguments.dropFirst())) {
        var flags = Set<String>()
        for argument in arguments {
            if argument == "--" { break }
            guard argument.hasPrefix("--") else { continue }
            flags.insert(String(argument.split(separator: "=", maxSplits: 1)[0]))
        }
        self.flags = flags
    }

    /// Whether any of these spellings of one option was given.
    func contains(_ names: String...) -> Bool { names.contains(where: flags.contains) }
    func contains(any names: [String]) -> Bool { names.contains(where: flags.contains) }
}
