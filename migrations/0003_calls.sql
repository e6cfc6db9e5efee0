-- Calls placed through the bridge, and the idempotency records that make placing them safe to retry.

-- Keyed by the caller's Idempotency-Key (or one the bridge made up). Written before the call is
-- placed, so a crash between "placed at KallyAI" and "recorded here" is finished by the next cron
-- tick, which places again with the same key (KallyAI answers the same call).
CREATE TABLE placements (
  user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  idempotency_key TEXT NOT NULL,
  request_hash TEXT NOT NULL,
  request TEXT NOT NULL,
  key_id TEXT,
  state TEXT NOT NULL CHECK (state IN ('placing', 'placed')),
  call_id TEXT,
  -- the first answer, replayed to retries with the same key
  response TEXT,
  lease_until INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (user_id, idempotency_key)
);
CREATE INDEX placements_stale ON placements (state, lease_until);

CREATE TABLE calls (
  -- KallyAI's call_id
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  key_id TEXT,
  -- KallyAI's status, or 'expired' when the bridge gave up waiting for an outcome
  status TEXT NOT NULL,
  -- KallyAI's request: {"submission": {...}, "timezone": "..."}
  request TEXT NOT NULL,
  highlights TEXT,
  next_steps TEXT,
  duration_seconds INTEGER,
  created_at INTEGER NOT NULL,
  ended_at INTEGER,
  updated_at INTEGER NOT NULL,
  -- the outcome poller: when to look next (NULL once the outcome is recorded), how often it looked,
  -- and the lease of the tick working on it
  next_poll_at INTEGER,
  polls INTEGER NOT NULL DEFAULT 0,
  lease_until INTEGER
);
CREATE INDEX calls_by_user ON calls (user_id, created_at DESC, id DESC);
CREATE INDEX calls_due ON calls (next_poll_at) WHERE next_poll_at IS NOT NULL;
