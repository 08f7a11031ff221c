import TextingService
import TextingStore

// DeliveryFCGI: what providers call, delivery reports (POST /messages/delivery_status) and
// recipients' replies (POST /messages/inbound), as a FastCGI responder.
FastCGIProgram.run(ProgramCatalog.deliveryFCGI) { environment in
    let applier = ReportApplier(
        committers: try ServiceSettings.reportCommitConnections.read(environment),
        makeConnection: try ServiceConfiguration.databaseConnection(environment))
    let inbound = DeliveryAPI.InboundConfiguration(
        keywords: try ServiceSettings.recipientKeywords(environment),
        replies: InboundStore.Replies(
            optOut: try ServiceSettings.optOutReply.read(environment), optIn: try ServiceSettings.optInReply.read(environment),
            help: try ServiceSettings.helpReply.read(environment)),
        defaultCountryCode: try ServiceSettings.defaultCountryCode.read(environment))
    let api = DeliveryAPI(signer: try ServiceConfiguration.callbackSigner(environment), applier: applier, inbound: inbound)
    return { connection, request in try api.handle(request, connection: connection) }
}
