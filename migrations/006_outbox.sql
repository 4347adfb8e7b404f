-- The outbox: a message is stored here, with its activity row, before SMTP
-- is tried. States: queued → sending → smtp_done → sent, or failed (a
-- permanent refusal) or discarded. smtp_done is written before APPEND, so a
-- crash after SMTP never sends twice.
CREATE TABLE outbox (
    id              bigserial PRIMARY KEY,
    account_id      bigint NOT NULL REFERENCES accounts ON DELETE CASCADE,
    created_by      bigint REFERENCES users ON DELETE SET NULL,
    actor           text NOT NULL,
    idempotency_key text NOT NULL,
    state           text NOT NULL DEFAULT 'queued'
                    CHECK (state IN ('queued', 'sending', 'smtp_done', 'sent', 'failed', 'discarded')),
    mail_from       text NOT NULL,
    rcpt            text[] NOT NULL,
    raw             bytea NOT NULL,
    message_id      text NOT NULL,
    subject         text NOT NULL DEFAULT '',
    recipients      text NOT NULL DEFAULT '',
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt    timestamptz NOT NULL DEFAULT now(),
    claimed_at      timestamptz,
    last_answer     text NOT NULL DEFAULT '',
    activity_seq    bigint NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    sent_at         timestamptz,
    UNIQUE (account_id, idempotency_key)
);
CREATE INDEX outbox_due_idx ON outbox (next_attempt) WHERE state IN ('queued', 'sending', 'smtp_done');
CREATE INDEX outbox_account_idx ON outbox (account_id, id DESC);

-- PEC providers throttle submissions (Legalmail: 6 a minute).
ALTER TABLE accounts ADD COLUMN send_per_minute integer NOT NULL DEFAULT 0;
UPDATE accounts SET send_per_minute = 6 WHERE is_pec;
