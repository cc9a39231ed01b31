import ArgumentParser
import RecurCharLM
import RecurNN
import RecurReport
import RecurTensor
import RecurText

#if canImport(Glibc)
    import Glibc
#endif

/// `recur charlm …`: character language models.
struct CharLMCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "charlm",
        abstract: "Train character language models, sample from them and score text.",
        subcommands: [CharLMTrain.self, CharLMSample.self, CharLMEval.self, CharLMInspect.self]
    )
}

extension TextUnit: ExpressibleByArgument {}
extension CharLMCell: ExpressibleByArgument {}
extension CharLMOptimizer: ExpressibleByArgument {}
extension CharLMSchedule: ExpressibleByArgument {}
