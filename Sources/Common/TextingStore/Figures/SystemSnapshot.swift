import TextingDomain
import TextingSupport

/// The system's figures at one moment, read from the database by `MetricsStore`: what
/// `GET /metrics` exposes to Prometheus and `textingctl stats` shows an operator.
public struct SystemSnapshot: Sendable, Equatable {
    /// Jobs in the queue: messages still to be sent, including retries and scheduled ones.
    public var jobs: Int
    /// Jobs due now.
    public var dueJobs: Int
    /// Age of the oldest due job in seconds; 0 when none is due.
    public var oldestDueSeconds: Double
    /// Messages by status; a status with no message is absent or 0.
    public var messagesByStatus: [MessageStatus: Int]
    /// Phone numbers by status (`active`, `inactive`).
    public var phoneNumbersByStatus: [String: Int]
    public var attempts: [ProviderAttempts]
    public var providers: [ProviderHealth]
    /// Events that leave no row behind (`ServiceCounters`), since the database was created.
    public var events: [ServiceCounters.Event: Int] = [:]
    /// Webhook deliveries queued (waiting, being sent, or waiting for a retry).
    public var webhookDeliveries = 0
    /// Webhook deliveries due now.
    public var dueWebhookDeliveries = 0
    /// Age of the oldest due webhook delivery in seconds; 0 when none is due.
    public var oldestDueWebhookSeconds: Double = 0
    /// Webhook endpoints disabled (410 Gone, or failing for too long).
    public var disabledWebhookEndpoints = 0
    /// Accepted sends, segments and cost per provider and routing prefix.
    public var sends: [ProviderSends] = []
    /// Providers an operator paused.
    public var paused: [String] = []
    /// Every active key's usage this UTC day and month, and its limits.
    public var keys: [KeyUsage] = []

    /// The accepted sends through one provider for one of its prefixes (`""`: a provider that
    /// takes every number), since the database was created.
    public struct ProviderSends: Sendable, Equatable {
        public var provider: String
        public var prefix: String
        public var sends: Int
        public var segments: Int
        /// Exact decimal text, as stored.
        public var cost: String

        public init(provider: String, prefix: String, sends: Int, segments: Int, cost: String) {
            self.provider = provider
            self.prefix = prefix
            self.sends = sends
            self.segments = segments
            self.cost = cost
        }

        /// The prefix as a label and in reports: `*` for every number.
        public var prefixLabel: String { prefix.isEmpty ? "*" : prefix }
    }

    /// Send attempts of one provider with one outcome, since the database was created.
    public struct ProviderAttempts: Sendable, Equatable {
        public var provider: String
        /// `accepted`, `temporary_failure` or `permanent_failure`.
        public var outcome: String
        public var count: Int

        public init(provider: String, outcome: String, count: Int) {
            self.provider = provider
            self.outcome = outcome
            self.count = count
        }
    }

    /// One provider's circuit breaker, shared by every sender.
    public struct ProviderHealth: Sendable, Equatable {
        public var provider: String
        public var consecutiveFailures: Int
        /// Seconds until senders try it again; nil while the breaker is closed.
        public var openForSeconds: Double?

        public init(provider: String, consecutiveFailures: Int, openForSeconds: Double?) {
            self.provider = provider
            self.consecutiveFailures = consecutiveFailures
            self.openForSeconds = openForSeconds
        }
    }

    /// The statuses a phone number can have (the `phone_number_status` type).
    public static let phoneNumberStatuses = ["active", "inactive"]

    public init(
        jobs: Int = 0, dueJobs: Int = 0, oldestDueSeconds: Double = 0, messagesByStatus: [MessageStatus: Int] = [:],
        phoneNumbersByStatus: [String: Int] = [:], attempts: [ProviderAttempts] = [], providers: [ProviderHealth] = []
    ) {
        self.jobs = jobs
        self.dueJobs = dueJobs
        self.oldestDueSeconds = oldestDueSeconds
        self.messagesByStatus = messagesByStatus
        self.phoneNumbersByStatus = phoneNumbersByStatus
        self.attempts = attempts
        self.providers = providers
    }

    /// The Prometheus text exposition (format 0.0.4). Every status is listed, 0 included, so
    /// that a series does not vanish when its count drops to 0.
    public var prometheusText: String {
        var text = PrometheusText()
        text.gauge("texting_queue_jobs", "Jobs in the queue (messages still to be sent, including retries and scheduled ones).", value: String(jobs))
        text.gauge("texting_queue_due_jobs", "Jobs due now.", value: String(dueJobs))
        text.gauge("texting_queue_oldest_due_seconds", "Age of the oldest due job in seconds (0 when none is due).", value: Self.seconds(oldestDueSeconds))
        text.header("texting_messages", "gauge", "Messages by status.")
        for status in MessageStatus.allCases {
            text.sample("texting_messages", labels: ["status": status.rawValue], value: String(messagesByStatus[status] ?? 0))
        }
        text.header("texting_phone_numbers", "gauge", "Phone numbers by status (inactive: a provider reported the number invalid).")
        for status in Self.phoneNumberStatuses {
            text.sample("texting_phone_numbers", labels: ["status": status], value: String(phoneNumbersByStatus[status] ?? 0))
        }
        text.header("texting_provider_attempts_total", "counter", "Send attempts by provider and outcome.")
        for attempt in attempts {
            text.sample("texting_provider_attempts_total", labels: ["provider": attempt.provider, "outcome": attempt.outcome], value: String(attempt.count))
        }
        // Each family's samples follow its own TYPE line, as the format requires.
        text.header("texting_provider_breaker_open", "gauge", "1 while senders skip the provider after repeated failures.")
        for provider in providers {
            text.sample("texting_provider_breaker_open", labels: ["provider": provider.provider], value: provider.openForSeconds == nil ? "0" : "1")
        }
        text.header("texting_provider_consecutive_failures", "gauge", "Temporary failures in a row.")
        for provider in providers {
            text.sample("texting_provider_consecutive_failures", labels: ["provider": provider.provider], value: String(provider.consecutiveFailures))
        }
        text.header("texting_provider_paused", "gauge", "1 while an operator has paused the provider (textingctl providers pause).")
        for provider in paused {
            text.sample("texting_provider_paused", labels: ["provider": provider], value: "1")
        }
        text.header("texting_provider_sends_total", "counter", "Accepted sends by provider and the prefix that routed them (* : every number).")
        for send in sends {
            text.sample("texting_provider_sends_total", labels: ["provider": send.provider, "prefix": send.prefixLabel], value: String(send.sends))
        }
        text.header("texting_provider_segments_total", "counter", "SMS segments of the accepted sends, by provider and prefix.")
        for send in sends {
            text.sample("texting_provider_segments_total", labels: ["provider": send.provider, "prefix": send.prefixLabel], value: String(send.segments))
        }
        text.header("texting_provider_cost_total", "counter", "Cost of the accepted sends (;cost= per segment), by provider and prefix.")
        for send in sends {
            text.sample("texting_provider_cost_total", labels: ["provider": send.provider, "prefix": send.prefixLabel], value: send.cost)
        }
        text.header("texting_events_total", "counter", "Events that change nothing, e.g. a stalled sender's outcome recorded after its lease was taken.")
        let webhookCounters = Set(ServiceCounters.Event.webhookAttempts.map(\.event))
        for event in ServiceCounters.Event.allCases where !webhookCounters.contains(event) {
            text.sample("texting_events_total", labels: ["event": event.rawValue], value: String(events[event] ?? 0))
        }
        text.gauge(
            "texting_webhook_queue_deliveries", "Webhook deliveries queued (waiting, in flight, or waiting for a retry).", value: String(webhookDeliveries))
        text.gauge("texting_webhook_queue_due_deliveries", "Webhook deliveries due now.", value: String(dueWebhookDeliveries))
        text.gauge(
            "texting_webhook_queue_oldest_due_seconds", "Age of the oldest due webhook delivery in seconds (0 when none is due).",
            value: Self.seconds(oldestDueWebhookSeconds))
        text.gauge(
            "texting_webhook_endpoints_disabled", "Webhook endpoints disabled (410 Gone, or failing for too long).", value: String(disabledWebhookEndpoints))
        text.header(
            "texting_webhook_attempts_total", "counter",
            "Webhook delivery attempts by outcome (delivered, retrying, failed: given up, disabled: disabled its endpoint).")
        for (outcome, event) in ServiceCounters.Event.webhookAttempts {
            text.sample("texting_webhook_attempts_total", labels: ["outcome": outcome], value: String(events[event] ?? 0))
        }
        // Keys by their prefix (what `textingctl keys list` shows; never the key) and name.
        text.header("texting_key_messages", "gauge", "Messages an API key had accepted this UTC day and calendar month.")
        for key in keys {
            for (period, count) in [("day", key.dayMessages), ("month", key.monthMessages)] {
                text.sample("texting_key_messages", labels: ["key": key.prefix, "name": key.name, "period": period], value: String(count))
            }
        }
        text.header("texting_key_segments", "gauge", "SMS segments an API key had accepted this UTC day and calendar month.")
        for key in keys {
            for (period, count) in [("day", key.daySegments), ("month", key.monthSegments)] {
                text.sample("texting_key_segments", labels: ["key": key.prefix, "name": key.name, "period": period], value: String(count))
            }
        }
        text.header("texting_key_segment_quota", "gauge", "An API key's segment quota for the period (keys with one only).")
        for key in keys {
            for (period, quota) in [("day", key.limits.segmentsPerDay), ("month", key.limits.segmentsPerMonth)] {
                if let quota {
                    text.sample("texting_key_segment_quota", labels: ["key": key.prefix, "name": key.name, "period": period], value: String(quota))
                }
            }
        }
        text.header("texting_key_rate_limit", "gauge", "An API key's rate in messages a second (keys with one only).")
        for key in keys {
            if let rate = key.limits.rate {
                text.sample("texting_key_rate_limit", labels: ["key": key.prefix, "name": key.name], value: DecimalText.format(rate, decimals: 3))
            }
        }
        return text.output
    }

    /// What `textingctl stats` prints: one `key: value` line per figure, for people and grep.
    public var report: String {
        var lines = [
            "queue_jobs: \(jobs)",
            "queue_due_jobs: \(dueJobs)",
            "queue_oldest_due_seconds: \(Self.seconds(oldestDueSeconds))",
            "messages: " + MessageStatus.allCases.map { "\($0.rawValue)=\(messagesByStatus[$0] ?? 0)" }.joined(separator: " "),
            "phone_numbers: " + Self.phoneNumberStatuses.map { "\($0)=\(phoneNumbersByStatus[$0] ?? 0)" }.joined(separator: " "),
            "events: " + ServiceCounters.Event.allCases.map { "\($0.rawValue)=\(events[$0] ?? 0)" }.joined(separator: " "),
            "webhooks: queued=\(webhookDeliveries) due=\(dueWebhookDeliveries) oldest_due_seconds=\(Self.seconds(oldestDueWebhookSeconds)) disabled_endpoints=\(disabledWebhookEndpoints)",
        ]
        if providers.isEmpty && attempts.isEmpty {
            lines.append("providers: none tried yet")
        }
        let names = (providers.map(\.provider) + attempts.map(\.provider) + sends.map(\.provider)).reduce(into: [String]()) { names, name in
            if !names.contains(name) { names.append(name) }
        }
        for name in names {
            var line = "provider \(name): breaker "
            if let health = providers.first(where: { $0.provider == name }) {
                line += health.openForSeconds.map { "open (tried again in \(Self.seconds($0)) s)" } ?? "closed"
                line += " consecutive_failures=\(health.consecutiveFailures)"
            } else {
                line += "closed consecutive_failures=0"
            }
            if paused.contains(name) { line += " paused" }
            for outcome in ["accepted", "temporary_failure", "permanent_failure"] {
                line += " \(outcome)=\(attempts.first { $0.provider == name && $0.outcome == outcome }?.count ?? 0)"
            }
            lines.append(line)
            for send in sends where send.provider == name {
                lines.append("provider \(name) prefix \(send.prefixLabel): sends=\(send.sends) segments=\(send.segments) cost=\(send.cost)")
            }
        }
        lines += keys.map(\.summary)
        return lines.joined(separator: "\n")
    }

    /// Seconds with at most 3 decimals, without trailing zeros (`0`, `1.5`, `12.345`).
    public static func seconds(_ value: Double) -> String {
        DecimalText.format(max(0, value), decimals: 3)
    }
}
