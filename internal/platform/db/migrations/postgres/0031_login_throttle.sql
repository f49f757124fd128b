-- Failed staff logins per key: an account at a client address
-- ("acct:<username>@<addr>") or a client address ("addr:<addr>"). Past the
-- free failures each one doubles the wait before the next try (next_at);
-- the count starts over an hour after the last failure.
CREATE TABLE login_throttle (
    key       TEXT    PRIMARY KEY,
    failures  BIGINT NOT NULL,
    next_at   BIGINT NOT NULL,
    last_at   BIGINT NOT NULL
);
CREATE INDEX login_throttle_last ON login_throttle (last_at);
