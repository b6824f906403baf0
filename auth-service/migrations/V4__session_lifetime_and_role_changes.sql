-- An absolute end for every session (refresh-token family): rotation never extends a session past
-- it. Existing tokens end at their current expiry at the latest.
ALTER TABLE refresh_tokens ADD COLUMN session_expires_at timestamptz;
UPDATE refresh_tokens SET session_expires_at = expires_at;
ALTER TABLE refresh_tokens ALTER COLUMN session_expires_at SET NOT NULL;

-- A role change, by whatever path (SQL included), ends every session of that user: its tokens
-- carry the old role. Access tokens already issued live out their short TTL.
CREATE FUNCTION revoke_sessions_on_role_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE refresh_tokens SET revoked_at = now() WHERE user_id = NEW.id AND revoked_at IS NULL;
    RETURN NEW;
END
$$;

CREATE TRIGGER users_role_change_revokes_sessions
    AFTER UPDATE OF role ON users
    FOR EACH ROW WHEN (OLD.role IS DISTINCT FROM NEW.role)
    EXECUTE FUNCTION revoke_sessions_on_role_change();
