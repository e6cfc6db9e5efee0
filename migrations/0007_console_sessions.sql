-- Console sessions: a person signed in to the web console (/console). The cookie holds a random
-- token; only its SHA-256 is stored. A session acts as the API key its sign-in issued.
CREATE TABLE console_sessions (
  token_hash TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  -- the key the session acts as (scopes, hourly call guard); revoking it ends the session
  key_id TEXT NOT NULL REFERENCES api_keys (id) ON DELETE CASCADE,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  -- a one-time message for the next page (e.g. a new key shown once), sealed with the vault
  flash TEXT,
  flash_key_id TEXT
);
CREATE INDEX console_sessions_by_user ON console_sessions (user_id);
CREATE INDEX console_sessions_by_expiry ON console_sessions (expires_at);
