-- Where a user's KallyAI tokens are refreshed (KallyAI's API reference): 'cli' tokens (KallyAI's
-- CLI sign-in, or a refresh token linked with POST /v1/link) at POST /v1/auth/refresh; 'oauth'
-- tokens (the bridge's OAuth client sign-in) at POST /v1/auth/gpt/token with the client's
-- credentials. NULL for tokens stored before this migration: the next refresh finds out, and
-- records it.
ALTER TABLE vault ADD COLUMN refresh_grant TEXT CHECK (refresh_grant IN ('cli', 'oauth'));

-- The sandbox (test mode) keeps the scope an OAuth client's tokens were granted, as KallyAI's token
-- endpoint answers it and hands it on when they refresh.
ALTER TABLE sandbox_tokens ADD COLUMN scope TEXT;
