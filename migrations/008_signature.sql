-- Each shared account's signature, added to new messages, replies and
-- forwards.
ALTER TABLE accounts ADD COLUMN signature text NOT NULL DEFAULT '';
