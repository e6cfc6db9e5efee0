-- The KallyAI sandbox's own state (test mode). The bridge never reads these tables.
CREATE TABLE sandbox_users (
  id TEXT PRIMARY KEY,
  email TEXT NOT NULL UNIQUE,
  calls_allocated INTEGER NOT NULL,
  minutes_allocated INTEGER NOT NULL,
  created_at INTEGER NOT NULL
);

-- Access tokens, refresh tokens and authorization codes, stored as SHA-256 hashes.
CREATE TABLE sandbox_tokens (
  token_hash TEXT PRIMARY KEY,
  kind TEXT NOT NULL CHECK (kind IN ('access', 'refresh', 'code')),
  user_id TEXT NOT NULL REFERENCES sandbox_users (id),
  expires_at INTEGER NOT NULL,
  used_at INTEGER,
  client_id TEXT,
  redirect_uri TEXT,
  created_at INTEGER NOT NULL
);

CREATE TABLE sandbox_calls (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES sandbox_users (id),
  request TEXT NOT NULL,
  -- the terminal status the scenario leads to, or 'never'
  outcome TEXT NOT NULL,
  duration_seconds INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  ends_at INTEGER NOT NULL,
  cancelled_at INTEGER,
  idempotency_key TEXT,
  request_hash TEXT NOT NULL,
  UNIQUE (user_id, idempotency_key)
);
CREATE INDEX sandbox_calls_by_user ON sandbox_calls (user_id, created_at DESC);

-- Every request the sandbox received, so tests and people can see what the bridge sent.
CREATE TABLE sandbox_requests (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  method TEXT NOT NULL,
  path TEXT NOT NULL,
  at INTEGER NOT NULL
);
