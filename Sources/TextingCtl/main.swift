import Glibc
import TextingService
import TextingSupport

// textingctl: the operator's command line: migrations, API keys, numbers, messages, figures,
// pruning, statements and settings. AdminCommand reads the command line, AdminCommandRunner
// carries it out; this file only prints the outcome.
ProgramCatalog.textingctl.handleCommandLine()
do {
    let command = try AdminCommand.parse(Array(CommandLine.arguments.dropFirst()))
    switch try AdminCommandRunner(environment: EnvironmentReader()).run(command) {
    case .done(let output):
        print(output, terminator: "")
    case .failed(let message, let status):
        Log.error(message)
        exit(status)
    }
} catch let error as AdminCommand.UsageError {
    Log.error(error.message)
    exit(2)
} catch {
    Log.error("\(error)")
    exit(1)
}
