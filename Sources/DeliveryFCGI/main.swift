import TextingService

// DeliveryFCGI: providers' delivery reports (POST /messages/delivery_status) as a FastCGI responder.
FastCGIProgram.run(ProgramCatalog.deliveryFCGI) { environment in
    let applier = ReportApplier(
        committers: try ServiceSettings.commitConnections.read(environment),
        makeConnection: try ServiceConfiguration.databaseConnection(environment))
    let api = DeliveryAPI(signer: try ServiceConfiguration.callbackSigner(environment), applier: applier)
    return { connection, request in try api.handle(request, connection: connection) }
}
