-- Second verification for admin accounts (internal/account, RFC 6238
-- TOTP) and staff session hygiene.
--
-- account_totp: one row per account that started enrolment. secret is the
-- base32 secret sealed with the deployment's secret key; enabled_at is NULL
-- while the enrolment waits for its first code. last_step is the newest
-- time step accepted: only a larger one is, so a code is never used twice
-- (a compare-and-set). failures and next_at slow wrong codes down (each
-- attempt is counted before its code is checked).
CREATE TABLE account_totp (
    account_id  BIGINT PRIMARY KEY REFERENCES accounts(id),
    secret      TEXT    NOT NULL,
    enabled_at  BIGINT,
    last_step   BIGINT NOT NULL DEFAULT 0,
    failures    BIGINT NOT NULL DEFAULT 0,
    next_at     BIGINT NOT NULL DEFAULT 0,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);

-- Recovery codes: SHA-256 of each, shown once at confirmation; used_at is
-- set by the compare-and-set that spends one.
CREATE TABLE account_recovery_codes (
    account_id  BIGINT NOT NULL REFERENCES accounts(id),
    code_hash   TEXT    NOT NULL,
    used_at     BIGINT,
    PRIMARY KEY (account_id, code_hash)
);

-- A right password of an account with TOTP gives a challenge (its SHA-256
-- here), good for 5 minutes and one session.
CREATE TABLE totp_challenges (
    token_hash  TEXT    PRIMARY KEY,
    account_id  BIGINT NOT NULL REFERENCES accounts(id),
    expires_at  BIGINT NOT NULL
);
CREATE INDEX totp_challenges_expiry ON totp_challenges (expires_at);

-- A shop that requires TOTP of all its roles (owners always need it when
-- the deployment requires it).
CREATE TABLE shop_security (
    shop_id         BIGINT PRIMARY KEY REFERENCES shops(id),
    totp_all_roles  BOOLEAN NOT NULL DEFAULT FALSE,
    updated_at      BIGINT NOT NULL
);

-- Sessions get a public id (what staff see and revoke, never the token's
-- hash), the last request (idle expiry, written at most once a minute),
-- the last second verification, and where they were opened from.
ALTER TABLE sessions ADD COLUMN public_id BIGINT;
ALTER TABLE sessions ADD COLUMN last_seen_at BIGINT;
ALTER TABLE sessions ADD COLUMN stepped_up_at BIGINT;
ALTER TABLE sessions ADD COLUMN addr TEXT NOT NULL DEFAULT '';
ALTER TABLE sessions ADD COLUMN user_agent TEXT NOT NULL DEFAULT '';
UPDATE sessions SET public_id = floor(random() * 9007199254740990)::BIGINT + 1, last_seen_at = created_at;
CREATE UNIQUE INDEX sessions_public_id ON sessions (public_id);
