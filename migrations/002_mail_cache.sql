-- The header cache: folders and messages per account, kept equal to the
-- server by imapclient.

CREATE TABLE folders (
    id             bigserial PRIMARY KEY,
    account_id     bigint NOT NULL REFERENCES accounts ON DELETE CASCADE,
    name           text NOT NULL,
    delimiter      text NOT NULL DEFAULT '/',
    special_use    text NOT NULL DEFAULT '',
    uidvalidity    bigint NOT NULL DEFAULT 0,
    uidnext        bigint NOT NULL DEFAULT 0,
    highest_modseq bigint NOT NULL DEFAULT 0,
    synced_at      timestamptz,
    UNIQUE (account_id, name)
);

CREATE TABLE messages (
    id              bigserial PRIMARY KEY,
    account_id      bigint NOT NULL REFERENCES accounts ON DELETE CASCADE,
    folder_id       bigint NOT NULL REFERENCES folders ON DELETE CASCADE,
    uid             bigint NOT NULL,
    modseq          bigint NOT NULL DEFAULT 0,
    flags           text[] NOT NULL DEFAULT '{}',
    seen            boolean NOT NULL DEFAULT false,
    flagged         boolean NOT NULL DEFAULT false,
    internal_date   timestamptz NOT NULL,
    sent_date       timestamptz,
    size            bigint NOT NULL DEFAULT 0,
    subject         text NOT NULL DEFAULT '',
    from_name       text NOT NULL DEFAULT '',
    from_addr       text NOT NULL DEFAULT '',
    to_addrs        text NOT NULL DEFAULT '',
    cc_addrs        text NOT NULL DEFAULT '',
    reply_to        text NOT NULL DEFAULT '',
    message_id      text NOT NULL DEFAULT '',
    in_reply_to     text NOT NULL DEFAULT '',
    refs            text[] NOT NULL DEFAULT '{}',
    has_attachments boolean NOT NULL DEFAULT false,
    attachments     jsonb NOT NULL DEFAULT '[]',
    pec_kind        text NOT NULL DEFAULT '',
    pec_ref         text NOT NULL DEFAULT '',
    UNIQUE (folder_id, uid)
);
-- Keyset pagination of a folder, newest first.
CREATE INDEX messages_folder_date_idx ON messages (folder_id, internal_date DESC, id DESC);
CREATE INDEX messages_account_msgid_idx ON messages (account_id, message_id) WHERE message_id <> '';
CREATE INDEX messages_unseen_idx ON messages (folder_id) WHERE NOT seen;
