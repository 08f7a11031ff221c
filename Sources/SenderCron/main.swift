import FoundationEssentials
import Glibc
import Synchronization
import TextingService
import TextingSupport

// SenderCron: one run of the sender, as the systemd timer starts it. `--once` drains what is
// due and exits; otherwise it runs for TEXTING_SENDER_RUN_SECONDS, woken by LISTEN/NOTIFY.
ProgramCatalog.senderCron.handleCommandLine()
let stopRequested = Atomic<Bool>(false)
signal(SIGTERM) { _ in stopRequested.store(true, ordering: .relaxed) }
signal(SIGINT) { _ in stopRequested.store(true, ordering: .relaxed) }

let once = CommandLine.arguments.dropFirst().contains("--once")
let started = Date.now
do {
    let configuration = try SenderConfiguration(EnvironmentReader())
    let sender = try Sender(configuration: configuration, shouldStop: { stopRequested.load(ordering: .relaxed) })
    do {
        try sender.run(once: once)
    } catch {
        Log.error("run aborted: \(error); \(sender.summary)")
        exit(1)
    }
    let milliseconds = Int(Date.now.timeIntervalSince(started) * 1000)
    Log.info("run done in \(milliseconds) ms: \(sender.summary)")
} catch {
    Log.error("\(error)")
    exit(1)
}
