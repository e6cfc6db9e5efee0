-- Linked KallyAI accounts, their tokens (encrypted), and the API keys handed to tools.
CREATE TABLE users (
  id TEXT PRIMARY KEY,
  -- KallyAI's id for the account when its tokens reveal one; relinking the same account finds this row
  kallyai_account TEXT UNIQUE,
  link_state TEXT NOT NULL DEFAULT 'linked' CHECK (link_state IN ('linked', 'relink_required', 'unlinked')),
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);

-- The vault: AES-256-GCM ciphertexts (base64 of IV || ciphertext), bound to user_id as associated data.
CREATE TABLE vault (
  user_id TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
  key_id TEXT NOT NULL,
  refresh_token TEXT NOT NULL,
  access_token TEXT,
  access_expires_at INTEGER,
  -- bumped on every token write; a refresh commits only if the version it read is still current
  version INTEGER NOT NULL DEFAULT 0,
  -- lease held by the one request refreshing the tokens of this user
  refresh_lease_until INTEGER,
  updated_at INTEGER NOT NULL
);
CREATE INDEX vault_by_key ON vault (key_id);

CREATE TABLE api_keys (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  scopes TEXT NOT NULL,
  calls_per_hour INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER,
  last_used_at INTEGER,
  revoked_at INTEGER
);
CREATE INDEX api_keys_by_user ON api_keys (user_id, created_at DESC);

-- Sign-in states: random, single-use, short-lived (stored hashed).
CREATE TABLE login_states (
  state_hash TEXT PRIMARY KEY,
  flow TEXT NOT NULL CHECK (flow IN ('cli', 'oauth')),
  redirect_uri TEXT NOT NULL,
  expires_at INTEGER NOT NULL,
  used_at INTEGER
);

-- Fixed-window counters: per-key hourly call guard, per-IP link attempts.
CREATE TABLE rate_counters (
  bucket TEXT PRIMARY KEY,
  count INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
);
CREATE INDEX rate_counters_by_expiry ON rate_counters (expires_at);
