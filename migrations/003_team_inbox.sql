-- Reading mail: threads, search, per-user read state and the body cache.

-- The thread a message belongs to: the root of its References, else what it
-- replies to, else itself.
ALTER TABLE messages ADD COLUMN thread_key text NOT NULL DEFAULT '';
UPDATE messages SET thread_key = coalesce(refs[1], nullif(in_reply_to, ''), message_id);
CREATE INDEX messages_thread_idx ON messages (account_id, thread_key) WHERE thread_key <> '';

-- Body text, filled once the body has been fetched, so search covers it.
ALTER TABLE messages ADD COLUMN body_text text NOT NULL DEFAULT '';

-- Full-text search in both configurations: 'simple' matches words as
-- written (names, codes, English), 'italian' matches Italian word forms.
ALTER TABLE messages ADD COLUMN search tsvector GENERATED ALWAYS AS (
    setweight(to_tsvector('simple', coalesce(subject, '')), 'A') ||
    setweight(to_tsvector('simple', coalesce(from_name, '') || ' ' || coalesce(from_addr, '') || ' ' || coalesce(to_addrs, '') || ' ' || coalesce(cc_addrs, '')), 'B') ||
    setweight(to_tsvector('italian', coalesce(subject, '')), 'C') ||
    to_tsvector('simple', left(coalesce(body_text, ''), 100000)) ||
    to_tsvector('italian', left(coalesce(body_text, ''), 100000))
) STORED;
CREATE INDEX messages_search_idx ON messages USING gin (search);

-- Partial names, addresses and subjects ("ross", "@comune.") by trigram.
CREATE INDEX messages_people_trgm_idx ON messages USING gin ((from_name || ' ' || from_addr || ' ' || to_addrs || ' ' || cc_addrs) gin_trgm_ops);
CREATE INDEX messages_subject_trgm_idx ON messages USING gin (subject gin_trgm_ops);
CREATE INDEX messages_account_date_idx ON messages (account_id, internal_date DESC, id DESC);

-- Read state per person: opening a message marks it read for its reader
-- only; the shared \Seen flag changes only by a manager's explicit action.
CREATE TABLE message_reads (
    user_id    bigint NOT NULL REFERENCES users ON DELETE CASCADE,
    message_id bigint NOT NULL REFERENCES messages ON DELETE CASCADE,
    read_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, message_id)
);
CREATE INDEX message_reads_message_idx ON message_reads (message_id);

-- Raw messages fetched from IMAP, kept byte for byte (the .eml is legal
-- evidence for PEC) up to a configured size per message.
CREATE TABLE message_bodies (
    message_id bigint PRIMARY KEY REFERENCES messages ON DELETE CASCADE,
    raw        bytea NOT NULL,
    sha256     bytea NOT NULL,
    fetched_at timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE message_bodies ALTER COLUMN raw SET STORAGE EXTERNAL;
