-- OAuth grants (docs/oauth.md): each app a person connects by OAuth acts through a key of its own
-- (its scopes, its hourly call guard, its last use), marked with the app's client id. These keys
-- are never shown or counted as API keys; revoking the app's grant revokes its key, and the key
-- being revoked (unlinking the account) ends the grant.
ALTER TABLE api_keys ADD COLUMN oauth_client_id TEXT;
