import Glibc
import MockProviderKit
import TextingFastCGI
import TextingSupport

// MockProvider: a stand-in SMS provider behind nginx (FastCGI), honouring the provider
// contract, with settable latency, failures, 429s and delivery callbacks.
// Before the callback thread starts: it must not be a thread a SIGTERM can kill.
StopSignals.block()
MockProviderProgram.description.handleCommandLine()
let environment = EnvironmentReader()
do {
    let provider = MockProvider(
        name: try MockSettings.name.read(environment), settings: try MockProviderSettings(environment),
        inboundURL: try MockSettings.inboundURL.read(environment))
    PosixThread.start { provider.runCallbackLoop() }
    let server = FastCGIServer(
        listener: .unixSocket(try FastCGISettings.socket.read(environment)),
        threadCount: try MockSettings.threads.read(environment),
        // Its counters (/_mock/stats) say what it received; a log line per send would only
        // weigh on the benchmark's measurement of the providers alone.
        logsRequests: false,
        makeContext: { () },
        handler: { _, request in try provider.handle(request) })
    try server.run()
} catch {
    Log.error("\(error)")
    exit(1)
}
