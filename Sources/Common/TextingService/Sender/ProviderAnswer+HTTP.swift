import TextingDomain
import TextingHTTPClient

/// A transfer's result judged by the domain's rules (`ProviderAnswer`).
extension ProviderAnswer {
    public init(_ result: Result<HTTPResponse, HTTPClientError>, masking secrets: [(label: String, text: String)] = []) {
        switch result {
        case .failure(let error):
            self.init(noAnswer: error.description)
        case .success(let response):
            self.init(status: response.status, retryAfter: response.header("retry-after"), body: response.body, masking: secrets)
        }
    }
}
