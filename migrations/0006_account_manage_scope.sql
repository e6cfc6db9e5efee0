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
