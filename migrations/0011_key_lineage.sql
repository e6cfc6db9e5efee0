-- Which key made each key, and the hourly limits a key's calls count against (issue 23, finding 1).
-- A key's calls_per_hour covers its own calls and those of every key it made, transitively,
-- revoked ones included: each call takes one slot of the key's hourly counter and of every
-- ancestor's (src/domain/guard.ts). limit_chain is the ancestors, nearest first, as a JSON array of
-- {"id", "calls_per_hour"}: limits never change once a key exists, so the chain is written once.
-- Keys that a sign-in or a link issued, and keys made before this migration, have no parent.
ALTER TABLE api_keys ADD COLUMN parent_key_id TEXT;
ALTER TABLE api_keys ADD COLUMN limit_chain TEXT NOT NULL DEFAULT '[]';
