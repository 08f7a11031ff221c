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
    let environment = EnvironmentReader()
    let configuration = try SenderConfiguration(environment)
    let shouldStop: @Sendable () -> Bool = { stopRequested.load(ordering: .relaxed) }
    // One end for the run's two threads, counted from its start (a wait for the database
    // below is part of the run).
    let deadline = started.addingTimeInterval(Double(configuration.runSeconds))
    if !once, try !Sender.waitForDatabase(configuration, deadline: deadline, shouldStop: shouldStop) {
        if stopRequested.load(ordering: .relaxed) { exit(0) }
        Log.error("run aborted: the database could not be reached for the whole run")
        exit(1)
    }
    let sender = try Sender(configuration: configuration, shouldStop: shouldStop)
    // Webhooks go out beside the sends, on their own thread and connection: `--once` drains
    // both, one after the other; a timed run runs both until its end.
    let webhooks = try WebhookDispatcher(
        configuration: try WebhookConfiguration(environment), makeConnection: { configuration.makeConnection() }, shouldStop: shouldStop)
    let webhookResult = Mutex<Result<Void, any Error>>(.success(()))
    let webhookThread = once ? nil : PosixThread.start { webhookResult.withLock { $0 = Result { try webhooks.run(once: false, deadline: deadline) } } }
    do {
        try sender.run(once: once, deadline: deadline)
        if once {
            try webhooks.run(once: true, deadline: deadline)
        }
    } catch {
        Log.error("run aborted: \(error); \(sender.summary) \(webhooks.summary)")
        exit(1)
    }
    if let webhookThread {
        pthread_join(webhookThread, nil)
        if case .failure(let error) = webhookResult.withLock({ $0 }) {
            Log.error("webhook dispatch aborted: \(error); \(sender.summary) \(webhooks.summary)")
            exit(1)
        }
    }
    let milliseconds = Int(Date.now.timeIntervalSince(started) * 1000)
    Log.info("run done in \(milliseconds) ms: \(sender.summary) \(webhooks.summary)")
} catch {
    Log.error("\(error)")
    exit(1)
}
