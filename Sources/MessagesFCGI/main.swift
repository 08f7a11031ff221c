import TextingService

// MessagesFCGI: the client API (/messages, /events, /webhook_endpoints, /healthz, /metrics) as a
// FastCGI responder.
FastCGIProgram.run(ProgramCatalog.messagesFCGI, bodyLimits: MessagesAPI.bodyLimits) { environment in
    let acceptor = MessageAcceptor(
        committers: try ServiceSettings.commitConnections.read(environment),
        makeConnection: try ServiceConfiguration.databaseConnection(environment))
    let reader = MessageReader(
        readers: try ServiceSettings.readConnections.read(environment),
        makeConnection: try ServiceConfiguration.databaseConnection(environment))
    let api = MessagesAPI(
        defaultCountryCode: try ServiceSettings.defaultCountryCode.read(environment),
        webhookRules: try ServiceConfiguration.webhookURLRules(environment), providers: try ServiceSettings.providers.read(environment),
        acceptor: acceptor, reader: reader)
    return { connection, request in try api.handle(request, connection: connection) }
}
