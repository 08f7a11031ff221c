import Common
import Glibc

// MockProvider: a stand-in SMS provider behind nginx (FastCGI), honouring the provider
// contract, with settable latency, failures, 429s and delivery callbacks.
let environment = EnvironmentReader()
do {
    let provider = MockProvider(name: environment.string("MOCK_NAME", default: "mock"), settings: try MockProviderSettings(environment))
    Thread.start { provider.runCallbackLoop() }
    let server = FastCGIServer(
        socketPath: ServiceConfiguration.fastCGISocket(environment),
        threadCount: try environment.int("MOCK_THREADS", default: 32, range: 1...512),
        makeContext: { () },
        handler: { _, request in try provider.handle(request) })
    try server.run()
} catch {
    Log.error("\(error)")
    exit(1)
}
