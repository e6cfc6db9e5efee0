-- The delivery log shows what happened (docs/webhooks.md, "Deliveries"): the start of each answer,
-- and the test events sent with "Send a test event".

-- The first 2 KB of the receiver's answer (as text, any secret of the subscription blanked out).
ALTER TABLE delivery_attempts ADD COLUMN response_body TEXT;

-- Test deliveries: not retried and without an event row (they must not reach the events feed),
-- so kept apart; only the newest few of each subscription are kept.
CREATE TABLE webhook_tests (
  id TEXT PRIMARY KEY,
  webhook_id TEXT NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
  event_type TEXT NOT NULL,
  -- the body that was sent (the sample event); never headers, which carry the signature
  request_body TEXT NOT NULL,
  status_code INTEGER,
  error TEXT,
  response_body TEXT,
  duration_ms INTEGER NOT NULL,
  at INTEGER NOT NULL
);
CREATE INDEX webhook_tests_by_webhook ON webhook_tests (webhook_id, at DESC);
