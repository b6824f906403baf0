-- The access token issued with each refresh token, so that revoking a family (logout, reuse of a
-- spent token) can also deny-list the access tokens it handed out.
ALTER TABLE refresh_tokens
    ADD COLUMN access_jti        text,
    ADD COLUMN access_expires_at timestamptz;
