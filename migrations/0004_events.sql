-- Call outcome events, webhook subscriptions and their deliveries (docs/webhooks.md).

-- One row per (call, type). Written in the same D1 batch that records the call's outcome, so a
-- crash cannot separate "outcome recorded" from "event emitted". The id is derived from the call
-- id and the type, so it is stable whoever records the outcome first.
CREATE TABLE events (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  call_id TEXT NOT NULL,
  -- call.completed, call.succeeded, call.failed, call.expired
  type TEXT NOT NULL,
  -- the webhook body: {"type", "timestamp", "data": {the call}}
  payload TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  UNIQUE (call_id, type)
);
CREATE INDEX events_by_user ON events (user_id, created_at DESC, id DESC);
CREATE INDEX events_by_age ON events (created_at);

-- Subscriptions. kind 'webhook' is a Standard Webhooks endpoint (url + whsec_ secret); kind
-- 'ifttt' delivers to IFTTT's Webhooks trigger URL, whose key is the secret. Secrets are sealed
-- with the vault (AES-GCM, bound to user_id).
CREATE TABLE webhooks (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  kind TEXT NOT NULL CHECK (kind IN ('webhook', 'ifttt')),
  -- the target; for IFTTT the event name only (the URL is built with the key at delivery)
  url TEXT NOT NULL,
  ifttt_event TEXT,
  -- JSON array of event types
  events TEXT NOT NULL,
  description TEXT,
  key_id TEXT NOT NULL,
  secret TEXT NOT NULL,
  state TEXT NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'disabled')),
  disabled_reason TEXT,
  disabled_at INTEGER,
  -- the first failed attempt since the last success; 5 days of failures disable the subscription
  failing_since INTEGER,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX webhooks_by_user ON webhooks (user_id, created_at DESC);

-- One delivery per (event, subscription), created in the batch that creates the event.
CREATE TABLE deliveries (
  id TEXT PRIMARY KEY,
  webhook_id TEXT NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
  event_id TEXT NOT NULL REFERENCES events (id) ON DELETE CASCADE,
  user_id TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('pending', 'succeeded', 'failed')),
  attempts INTEGER NOT NULL DEFAULT 0,
  -- when to try next (NULL once succeeded or failed), and the lease of the tick sending it
  next_attempt_at INTEGER,
  lease_until INTEGER,
  last_status INTEGER,
  last_error TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  UNIQUE (event_id, webhook_id)
);
CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE next_attempt_at IS NOT NULL;
CREATE INDEX deliveries_by_webhook ON deliveries (webhook_id, created_at DESC);

CREATE TABLE delivery_attempts (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  delivery_id TEXT NOT NULL REFERENCES deliveries (id) ON DELETE CASCADE,
  attempt INTEGER NOT NULL,
  at INTEGER NOT NULL,
  -- the receiver's status code, NULL when no answer came (timeout, refused connection)
  status_code INTEGER,
  error TEXT,
  duration_ms INTEGER NOT NULL
);
CREATE INDEX delivery_attempts_by_delivery ON delivery_attempts (delivery_id, attempt);
