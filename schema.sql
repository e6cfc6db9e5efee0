-- KallyAI Bridge: the complete D1 schema (migrations/0001_sandbox.sql … 0014_delivery_log.sql; 0008 and 0009
-- alter tables, so their columns are written into the tables below, marked with their migration; 0010 to 0014
-- follow at the end, except 0014's column of delivery_attempts, which is in that table).
-- Deployed databases are upgraded with `wrangler d1 migrations apply DB --remote`, never from this file.

-- 0001_sandbox.sql
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
  created_at INTEGER NOT NULL,
  -- (0009) the scope an OAuth client's code or tokens were granted
  scope TEXT
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

-- 0002_accounts.sql
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
  updated_at INTEGER NOT NULL,
  -- (0009) where the tokens refresh: 'cli' at /v1/auth/refresh, 'oauth' at /v1/auth/gpt/token; NULL = not known yet
  refresh_grant TEXT CHECK (refresh_grant IN ('cli', 'oauth'))
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

-- 0003_calls.sql
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
  -- the bridge's own id (KallyAI's call_id for calls recorded before 0008)
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
  lease_until INTEGER,
  -- (0008) KallyAI's call_id, once KallyAI answered the placement
  upstream_id TEXT
);
CREATE INDEX calls_by_user ON calls (user_id, created_at DESC, id DESC);
CREATE INDEX calls_due ON calls (next_poll_at) WHERE next_poll_at IS NOT NULL;
CREATE UNIQUE INDEX calls_by_upstream_id ON calls (upstream_id) WHERE upstream_id IS NOT NULL;

-- 0008_background_placements.sql
-- One row per call not yet handed over to KallyAI for good (docs/upstream.md); deleted once
-- KallyAI answered with the call, or the call ended without it (refused, cancelled, expired).
CREATE TABLE call_placements (
  call_id TEXT PRIMARY KEY REFERENCES calls (id) ON DELETE CASCADE,
  user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  -- the Idempotency-Key sent to KallyAI on every attempt, so a retry returns the same call
  upstream_key TEXT NOT NULL,
  -- queued: waiting for the placement consumer; sending: a consumer holds the POST;
  -- refused: KallyAI said no while the placing request still waited (that request answers it)
  state TEXT NOT NULL CHECK (state IN ('queued', 'sending', 'refused')),
  -- POSTs made so far
  attempts INTEGER NOT NULL DEFAULT 0,
  -- queued: next attempt due; sending: the consumer's lease runs out; refused: the placing request
  -- must have answered by then. Past it, the cron takes the placement over.
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

-- 0004_events.sql
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
  duration_ms INTEGER NOT NULL,
  -- (0014) the first 2 KB of the receiver's answer (as text, any secret of the subscription blanked out)
  response_body TEXT
);
CREATE INDEX delivery_attempts_by_delivery ON delivery_attempts (delivery_id, attempt);

-- 0005_triggers.sql
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

-- 0006_account_manage_scope.sql
-- The account:manage scope (create, list and revoke keys; unlink) did not exist before this
-- migration, and every key could manage the account. Keys that a sign-in or a link issued keep
-- doing so: they carry the default names those flows gave ("signed in" for /auth/callback,
-- "linked" for POST /v1/link, "kallyai-cli" for `kallyai --login --bridge`) and all four former
-- scopes. They also get the sign-in key's hourly limit, so they can hand out any lower one.
-- Keys made with POST /v1/keys lose key management: least privilege. Signing in again gives a
-- key that has it.
UPDATE api_keys
SET scopes = scopes || ' account:manage', calls_per_hour = max(calls_per_hour, 1000)
WHERE revoked_at IS NULL
  AND name IN ('signed in', 'linked', 'kallyai-cli')
  AND scopes = 'calls:write calls:read account:read webhooks';

-- 0007_console_sessions.sql
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

-- 0010_oauth_grants.sql
-- OAuth grants (docs/oauth.md): each app a person connects by OAuth acts through a key of its own
-- (its scopes, its hourly call guard, its last use), marked with the app's client id. These keys
-- are never shown or counted as API keys; revoking the app's grant revokes its key, and the key
-- being revoked (unlinking the account) ends the grant.
ALTER TABLE api_keys ADD COLUMN oauth_client_id TEXT;
-- 0011_key_lineage.sql
-- Which key made each key, and the hourly limits a key's calls count against (issue 23, finding 1).
-- A key's calls_per_hour covers its own calls and those of every key it made, transitively,
-- revoked ones included: each call takes one slot of the key's hourly counter and of every
-- ancestor's (src/domain/guard.ts). limit_chain is the ancestors, nearest first, as a JSON array of
-- {"id", "calls_per_hour"}: limits never change once a key exists, so the chain is written once.
-- Keys that a sign-in or a link issued, and keys made before this migration, have no parent.
ALTER TABLE api_keys ADD COLUMN parent_key_id TEXT;
ALTER TABLE api_keys ADD COLUMN limit_chain TEXT NOT NULL DEFAULT '[]';

-- 0012_trigger_open_fields.sql
-- Trigger URLs lock the fields their template sets (issue 23, finding 5). A hit fills the
-- template's {{placeholders}} and may set only the call fields listed in open_fields (a JSON array;
-- '[]' locks every field). Triggers made before this migration keep their behaviour — a hit may set
-- any call field — marked by open_fields NULL ("open": true in the API, "open" in the console)
-- until they are edited (PATCH /v1/triggers/{id}, or the console's Lock).
ALTER TABLE triggers ADD COLUMN open_fields TEXT;

-- 0013_ifttt.sql
-- IFTTT as a published service (docs/ifttt.md).

-- The trigger identities IFTTT polls (one per applet's trigger and fields), so that an event they
-- would list can make the bridge tell IFTTT to poll at once (realtime). IFTTT deletes them when an
-- applet is turned off or its fields change.
CREATE TABLE ifttt_trigger_identities (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  trigger_slug TEXT NOT NULL,
  -- the event type the trigger lists (call.completed, call.succeeded, call.failed)
  event_type TEXT NOT NULL,
  -- call_finished_from_number's number (E.164); NULL: any number
  phone TEXT,
  created_at INTEGER NOT NULL,
  last_polled_at INTEGER NOT NULL
);
CREATE INDEX ifttt_trigger_identities_by_user ON ifttt_trigger_identities (user_id, event_type);

-- Realtime notifications owed to IFTTT: one row per user with a new event a trigger identity
-- would list, written in the batch that records the event. Sent (up to 1,000 users per request)
-- by the delivery queue's consumer or the cron, and retried on the webhook schedule.
CREATE TABLE ifttt_notifications (
  user_id TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
  due_at INTEGER NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  lease_until INTEGER,
  created_at INTEGER NOT NULL
);
CREATE INDEX ifttt_notifications_due ON ifttt_notifications (due_at);

-- 0014_delivery_log.sql (its column of delivery_attempts is in that table above)
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
