-- Trigger URLs (IFTTT-Maker style): hitting /t/<token> places a call from a stored template.
CREATE TABLE triggers (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  -- the key that created it: its hourly guard applies, and revoking it stops the trigger too
  key_id TEXT NOT NULL REFERENCES api_keys (id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  -- SHA-256 of the URL's token; the token itself is shown once
  token_hash TEXT NOT NULL UNIQUE,
  -- the call fields, values may hold {{placeholders}}
  template TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  last_used_at INTEGER,
  revoked_at INTEGER
);
CREATE INDEX triggers_by_user ON triggers (user_id, created_at DESC);
