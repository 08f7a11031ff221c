import TextingService

// DeliveryFCGI: providers' delivery reports (POST /messages/delivery_status) as a FastCGI responder.
FastCGIProgram.run(ProgramCatalog.deliveryFCGI) { environment in
    let applier = ReportApplier(committers: try ServiceConfiguration.commitConnections(environment),
                                makeConnection: try ServiceConfiguration.databaseConnection(environment))
    let api = DeliveryAPI(signer: try ServiceConfiguration.callbackSigner(environment), applier: applier)
    return { connection, request in try api.handle(request, connection: connection) }
}
