import Common
import Glibc

// DeliveryFCGI: providers' delivery reports (POST /messages/delivery_status) as a FastCGI responder.
let environment = EnvironmentReader()
do {
    let databaseURL = try ServiceConfiguration.databaseURL(environment)
    let api = DeliveryAPI(signer: try ServiceConfiguration.callbackSigner(environment))
    let server = FastCGIServer(
        socketPath: ServiceConfiguration.fastCGISocket(environment),
        threadCount: try ServiceConfiguration.fastCGIThreads(environment),
        makeContext: { PostgresConnection(conninfo: databaseURL) },
        handler: { connection, request in try api.handle(request, connection: connection) })
    try server.run()
} catch {
    Log.error("\(error)")
    exit(1)
}
