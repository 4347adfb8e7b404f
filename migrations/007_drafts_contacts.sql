-- Drafts, saved as people type, so a closed tab, a reload or a restart
-- loses nothing. version detects two managers editing the same draft.
CREATE TABLE drafts (
    id              bigserial PRIMARY KEY,
    account_id      bigint NOT NULL REFERENCES accounts ON DELETE CASCADE,
    created_by      bigint REFERENCES users ON DELETE SET NULL,
    updated_by      bigint REFERENCES users ON DELETE SET NULL,
    updated_at      timestamptz NOT NULL DEFAULT now(),
    version         integer NOT NULL DEFAULT 1,
    to_addrs        text NOT NULL DEFAULT '',
    cc_addrs        text NOT NULL DEFAULT '',
    bcc_addrs       text NOT NULL DEFAULT '',
    subject         text NOT NULL DEFAULT '',
    body            text NOT NULL DEFAULT '',
    in_reply_to     bigint,
    mode            text NOT NULL DEFAULT '',
    idempotency_key text NOT NULL
);
CREATE INDEX drafts_account_idx ON drafts (account_id, updated_at DESC);

-- The office's shared address book ("rubrica unica").
CREATE TABLE contacts (
    id         bigserial PRIMARY KEY,
    email      text NOT NULL,
    name       text NOT NULL DEFAULT '',
    is_pec     boolean NOT NULL DEFAULT false,
    uses       integer NOT NULL DEFAULT 0,
    last_used  timestamptz,
    note       text NOT NULL DEFAULT '',
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX contacts_email_key ON contacts (lower(email));
CREATE INDEX contacts_trgm_idx ON contacts USING gin ((name || ' ' || email) gin_trgm_ops);
