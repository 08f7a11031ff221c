-- A delivery that must wait for an earlier one of its message to the same destination (in
-- order per message) is not due before that one: queued while the earlier waits out its
-- backoff, it takes the earlier's due time; the earlier's failure moves it along with each
-- retry (webhook_deliveries.record). The claim still checks the order; this only keeps it
-- from walking past every waiting delivery (tens of thousands while a receiver is down) on
-- each call to find the ones it may send.
CREATE OR REPLACE FUNCTION queue_webhook_deliveries(event events, callback text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO webhook_deliveries (event_id, api_key_id, endpoint_id, message_id, url, run_at)
    SELECT event.id, event.api_key_id, w.id, event.message_id, w.url,
           greatest(now(), (SELECT max(earlier.run_at) FROM webhook_deliveries earlier
                            WHERE earlier.message_id = event.message_id AND earlier.endpoint_id = w.id
                              AND earlier.leased_by IS NULL))
    FROM webhook_endpoints w
    WHERE w.api_key_id = event.api_key_id AND w.disabled_at IS NULL
      AND (w.event_types = '{}' OR event.type = ANY(w.event_types));
    IF callback IS NOT NULL THEN
        INSERT INTO webhook_deliveries (event_id, api_key_id, endpoint_id, message_id, url, run_at)
        VALUES (event.id, event.api_key_id, NULL, event.message_id, callback,
                greatest(now(), (SELECT max(earlier.run_at) FROM webhook_deliveries earlier
                                 WHERE earlier.message_id = event.message_id AND earlier.endpoint_id IS NULL
                                   AND earlier.url = callback AND earlier.leased_by IS NULL)));
    END IF;
END;
$$;
