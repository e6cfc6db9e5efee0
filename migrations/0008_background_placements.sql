-- Calls are placed in the background (docs/upstream.md): KallyAI answers POST /v1/calls only
-- when the call has ended, so a call has the bridge's own id from the moment it is accepted, and
-- KallyAI's id once KallyAI answers.
ALTER TABLE calls ADD COLUMN upstream_id TEXT;
-- Calls recorded before this migration were stored under KallyAI's id: it stays their id.
UPDATE calls SET upstream_id = id;
CREATE UNIQUE INDEX calls_by_upstream_id ON calls (upstream_id) WHERE upstream_id IS NOT NULL;

-- One row per call not yet handed over to KallyAI for good; deleted once KallyAI answered with the
-- call (or the call ended without it: refused, cancelled, expired).
CREATE TABLE call_placements (
  call_id TEXT PRIMARY KEY REFERENCES calls (id) ON DELETE CASCADE,
  user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  -- the Idempotency-Key sent to KallyAI on every attempt, so a retry returns the same call
  upstream_key TEXT NOT NULL,
  -- queued: waiting for the placement consumer; sending: a consumer holds the POST;
  -- refused: KallyAI said no while the placing request still waited (that request answers it)
  state TEXT NOT NULL CHECK (state IN ('queued', 'sending', 'refused')),
  -- POSTs made so far (a retry after a timeout, a 5xx or a vanished consumer adds one)
  attempts INTEGER NOT NULL DEFAULT 0,
  -- queued: when the next attempt is due; sending: when the consumer's lease runs out (it renews
  -- it while it waits); refused: by when the placing request must have answered the refusal.
  -- Past it, the cron takes the placement over.
  due_at INTEGER NOT NULL,
  -- 1 once the placing request answered 202: a refusal from then on ends the call `failed`
  answered INTEGER NOT NULL DEFAULT 0,
  -- the hourly allowance the call took (rate_counters.bucket), given back if it is never placed
  allowance_bucket TEXT,
  -- KallyAI's refusal, JSON {status, code, message, upgrade_url}, while state is refused
  refusal TEXT,
  created_at INTEGER NOT NULL
);
CREATE INDEX call_placements_due ON call_placements (state, due_at);

-- Idempotency records still 'placing' now belong to requests that died between claiming the key
-- and recording the call (the old, synchronous path). Each becomes a queued background placement
-- under the same upstream key, so the consumer's POST returns the call KallyAI may already have.
UPDATE placements SET call_id = lower(hex(randomblob(16))) WHERE state = 'placing';
INSERT INTO calls (id, user_id, key_id, status, request, created_at, updated_at, next_poll_at)
SELECT call_id, user_id, key_id, 'queued', request, created_at, created_at, created_at + 6 * 3600 * 1000
FROM placements WHERE state = 'placing';
INSERT INTO call_placements (call_id, user_id, upstream_key, state, due_at, answered, created_at)
SELECT call_id, user_id, idempotency_key, 'queued', created_at, 1, created_at FROM placements WHERE state = 'placing';
UPDATE placements
SET state = 'placed',
  response = json_object(
    'id', call_id, 'status', 'queued', 'created_at', strftime('%Y-%m-%dT%H:%M:%fZ', created_at / 1000.0, 'unixepoch'),
    'links', json_object(
      'self', '/v1/calls/' || call_id, 'transcript', '/v1/calls/' || call_id || '/transcript',
      'recording', '/v1/calls/' || call_id || '/recording', 'cancel', '/v1/calls/' || call_id || '/cancel'
    )
  )
WHERE state = 'placing';
