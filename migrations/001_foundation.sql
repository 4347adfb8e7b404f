-- Users, shared accounts, roles, sessions and the append-only activity log.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE users (
    id            bigserial PRIMARY KEY,
    email         text NOT NULL,
    name          text NOT NULL,
    password_hash text NOT NULL,
    is_admin      boolean NOT NULL DEFAULT false,
    totp_secret   bytea,
    locale        text NOT NULL DEFAULT '',
    time_zone     text NOT NULL DEFAULT '',
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_email_key ON users (lower(email));

CREATE TABLE accounts (
    id                   bigserial PRIMARY KEY,
    name                 text NOT NULL,
    address              text NOT NULL,
    imap_addr            text NOT NULL,
    smtp_addr            text NOT NULL,
    tls_mode             text NOT NULL DEFAULT 'implicit' CHECK (tls_mode IN ('implicit', 'starttls', 'none')),
    username             text NOT NULL,
    password_sealed      bytea NOT NULL,
    is_pec               boolean NOT NULL DEFAULT false,
    insecure_skip_verify boolean NOT NULL DEFAULT false,
    trash_folder         text NOT NULL DEFAULT '',
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX accounts_address_key ON accounts (lower(address));

CREATE TABLE memberships (
    user_id    bigint NOT NULL REFERENCES users ON DELETE CASCADE,
    account_id bigint NOT NULL REFERENCES accounts ON DELETE CASCADE,
    role       text NOT NULL CHECK (role IN ('reader', 'manager')),
    PRIMARY KEY (user_id, account_id)
);
CREATE INDEX memberships_account_idx ON memberships (account_id);

-- scs pgxstore
CREATE TABLE sessions (
    token  text PRIMARY KEY,
    data   bytea NOT NULL,
    expiry timestamptz NOT NULL
);
CREATE INDEX sessions_expiry_idx ON sessions (expiry);

-- The activity log. Each row's hash is SHA-256(previous hash || canonical
-- content); writers serialize on activity_head, so the chain stays whole with
-- many writers in many processes. account_id is kept without a foreign key:
-- the log outlives the accounts it speaks of.
CREATE TABLE activity (
    seq         bigint PRIMARY KEY,
    at          timestamptz NOT NULL,
    actor       text NOT NULL,
    remote_addr text NOT NULL DEFAULT '',
    user_agent  text NOT NULL DEFAULT '',
    action      text NOT NULL,
    account_id  bigint,
    folder      text NOT NULL DEFAULT '',
    uid         bigint,
    uidvalidity bigint,
    message_id  text NOT NULL DEFAULT '',
    subject     text NOT NULL DEFAULT '',
    sender      text NOT NULL DEFAULT '',
    reason      text NOT NULL DEFAULT '',
    outcome     text NOT NULL CHECK (outcome IN ('pending', 'ok', 'failed')),
    detail      text NOT NULL DEFAULT '',
    completes   bigint,
    prev_hash   bytea NOT NULL,
    hash        bytea NOT NULL
);
CREATE INDEX activity_account_idx ON activity (account_id, seq DESC);
CREATE INDEX activity_completes_idx ON activity (completes) WHERE completes IS NOT NULL;

CREATE TABLE activity_head (
    only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    seq      bigint NOT NULL,
    hash     bytea NOT NULL
);
INSERT INTO activity_head (seq, hash) VALUES (0, '\x0000000000000000000000000000000000000000000000000000000000000000');

CREATE FUNCTION activity_reject_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the activity log is append-only: % is not allowed', TG_OP;
END;
$$;
CREATE TRIGGER activity_append_only BEFORE UPDATE OR DELETE ON activity
    FOR EACH ROW EXECUTE FUNCTION activity_reject_change();
CREATE TRIGGER activity_no_truncate BEFORE TRUNCATE ON activity
    FOR EACH STATEMENT EXECUTE FUNCTION activity_reject_change();
