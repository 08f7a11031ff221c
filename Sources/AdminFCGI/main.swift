import TextingService

// AdminFCGI: the operator console (/admin) as a FastCGI responder. A program of its own, on
// its own socket: operators' pages never take a worker or a connection from the client API,
// and a fault here leaves the API and the providers' callbacks running.
FastCGIProgram.run(ProgramCatalog.adminFCGI, threads: ServiceSettings.adminThreads) { environment in
    let console = ConsoleAPI(
        providers: try ServiceSettings.providers.read(environment), defaultCountryCode: try ServiceSettings.defaultCountryCode.read(environment))
    return { connection, request in try console.handle(request, connection: connection) }
}
