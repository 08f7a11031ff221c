import Common

// DeliveryFCGI: providers' delivery reports (POST /messages/delivery_status) as a FastCGI responder.
FastCGIProgram.run(ProgramCatalog.deliveryFCGI) { environment in
    let api = DeliveryAPI(signer: try ServiceConfiguration.callbackSigner(environment))
    return { connection, request in try api.handle(request, connection: connection) }
}
