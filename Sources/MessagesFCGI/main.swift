import Common

// MessagesFCGI: the client API (/messages, /healthz, /metrics) as a FastCGI responder.
FastCGIProgram.run(ProgramCatalog.messagesFCGI) { environment in
    let api = MessagesAPI(defaultCountryCode: try ServiceConfiguration.defaultCountryCode(environment))
    return { connection, request in try api.handle(request, connection: connection) }
}
