import TextingPostgres

/// Every named statement the service runs, for `textingctl sql NAME`: tools that must run the
/// very statements the service runs (the benchmark's pgbench ceilings) ask the binary for
/// them instead of reading the Swift sources.
public enum NamedQueries {
    /// Each statement once, by name. A statement added to a store belongs here too (a unit test
    /// checks the names are unique).
    public static let all: [Query] =
        [
            JobQueue.lockHeldJobs, JobQueue.claim, JobQueue.claimedMessages, JobQueue.markSent, JobQueue.reschedule, JobQueue.markFailed,
            JobQueue.drop, JobQueue.claimRouted, JobQueue.deferJob, JobQueue.countSends, JobQueue.keepFailedSends, JobQueue.releaseRecipients, JobQueue.nextDue,
            JobQueue.listen,
            JobQueue.markIdle, JobQueue.markBusy,
            MessageStore.accept, MessageStore.findByID, MessageStore.readByID, MessageStore.findInternalID, MessageStore.numberID,
            MessageStore.lockJob, MessageStore.markCanceled, MessageStore.currentStatus, MessageStore.deleteJob,
            IdempotencyStore.claim, IdempotencyStore.find, IdempotencyStore.complete, IdempotencyStore.completeBatch, IdempotencyStore.deleteExpired,
            PhoneNumberReactivation.reactivate, PhoneNumberReactivation.find,
            MessageRequeue.lock, MessageRequeue.requeue, Pruning.staleIdleSenders,
            APIKeyStore.insert, APIKeyStore.listAll, APIKeyStore.revoke, APIKeyStore.findActive, APIKeyStore.findByPublicID,
            KeyLimitsStore.usageOfKey, KeyLimitsStore.usageOfAll, KeyLimitsStore.remove, KeyLimitsStore.upsert,
            KeySendersStore.list, KeySendersStore.clearDefault, KeySendersStore.upsert, KeySendersStore.remove,
            ProviderHealthStore.notClosed, ProviderHealthStore.updateHealth, ProviderHealthStore.countAnswers, ProviderHealthStore.pause,
            ProviderHealthStore.resume, ProviderHealthStore.states,
            ProviderRateStore.take, ProviderRateStore.slowDown,
            MetricsStore.queue, StatusCounts.compact, StatusCounts.byStatus, MetricsStore.attempts,
            MetricsStore.health, MetricsStore.sends, MetricsStore.webhooks, ServiceCounters.add, ServiceCounters.all, DatabaseHealth.check,
            DeliveryStore.findNumber, DeliveryStore.lockNumber, DeliveryStore.lockNumberJobs,
            DeliveryStore.lockNumberMessages, DeliveryStore.currentState, DeliveryStore.recordEvent,
            DeliveryStore.markInvalid, DeliveryStore.deactivateNumber, DeliveryStore.failQueuedMessages,
            DeliveryStore.applyWaiting, DeliveryStore.applyTogether,
            EventStore.list, EventStore.find,
            WebhookEndpointStore.create, WebhookEndpointStore.list, WebhookEndpointStore.listAll, WebhookEndpointStore.find,
            WebhookEndpointStore.delete, WebhookEndpointStore.enable, WebhookEndpointStore.rotateEndpointSecret, WebhookEndpointStore.rotateKeySecret,
            WebhookEndpointStore.hasKeySecret, WebhookEndpointStore.attempts, WebhookEndpointStore.redeliver, WebhookEndpointStore.countQueued,
            WebhookQueue.claim, WebhookQueue.claimed, WebhookQueue.recordAll, WebhookQueue.disable, WebhookQueue.nextDue, WebhookQueue.listen,
            WebhookQueue.markIdle, WebhookQueue.markBusy,
            OptOutStore.holdSendsTo, OptOutStore.lockNumber, OptOutStore.setOptedOut, OptOutStore.failQueuedMessages, OptOutStore.recordChange,
            OptOutStore.list,
            OptOutStore.find, InboundStore.insert, InboundStore.find, InboundStore.queueReply,
            History.tryLock, History.createAhead, History.partitions, History.expired, History.forgetCounts,
            History.exportBatch, History.recordExport,
            Migrator.lock, Migrator.unlock, Migrator.createTable, Migrator.listApplied, Migrator.noTimeouts, Migrator.record,
            OperatorStore.insert, OperatorStore.listAll, OperatorStore.revoke, OperatorStore.findActive,
            OperatorSessionStore.insert, OperatorSessionStore.find, OperatorSessionStore.delete, OperatorSessionStore.deleteExpired,
            AuditLog.insert, AuditLog.page, OperatorActions.failedWithCode,
            ConsoleStore.failuresByCode, ConsoleStore.failedMessages, ConsoleStore.stuckJobs, ConsoleStore.lastHour,
            MessageStory.byID, MessageStory.byNumber, MessageStory.byClientRef, MessageStory.byStatus, MessageStory.storyMessage,
            MessageStory.storyJob, MessageStory.storyFailedSends, MessageStory.storyEvents, MessageStory.storyReports, MessageStory.storyWebhooks,
            NumberLists.inactive,
        ] + MessageStore.listQueries

    /// The statement called `name`, if there is one.
    public static func named(_ name: String) -> Query? {
        all.first { $0.name == name }
    }
}
