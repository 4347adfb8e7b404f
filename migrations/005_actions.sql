-- Mailbox actions: a delete waits a few seconds (undo) before it reaches
-- the server; meanwhile the message is hidden from lists.
ALTER TABLE messages ADD COLUMN hidden boolean NOT NULL DEFAULT false;

CREATE TABLE pending_actions (
    id           bigserial PRIMARY KEY,
    account_id   bigint NOT NULL REFERENCES accounts ON DELETE CASCADE,
    message_id   bigint NOT NULL,             -- Sportello's id (the row may vanish)
    folder       text NOT NULL,
    uidvalidity  bigint NOT NULL,
    uid          bigint NOT NULL,
    action       text NOT NULL,               -- delete
    actor        text NOT NULL,
    activity_seq bigint NOT NULL,             -- the pending activity row
    run_at       timestamptz NOT NULL,
    started_at   timestamptz
);
CREATE INDEX pending_actions_due_idx ON pending_actions (run_at);

-- Removals Sportello itself makes: when sync then sees the message gone,
-- it is not reported as removed by another client.
CREATE TABLE expected_removals (
    folder_id bigint NOT NULL REFERENCES folders ON DELETE CASCADE,
    uid       bigint NOT NULL,
    until     timestamptz NOT NULL,
    PRIMARY KEY (folder_id, uid)
);

-- Where a message moved to Trash came from, so restore puts it back.
CREATE TABLE trash_origins (
    account_id    bigint NOT NULL REFERENCES accounts ON DELETE CASCADE,
    trash_folder  text NOT NULL,
    uidvalidity   bigint NOT NULL,
    uid           bigint NOT NULL,
    origin_folder text NOT NULL,
    PRIMARY KEY (account_id, trash_folder, uidvalidity, uid)
);
