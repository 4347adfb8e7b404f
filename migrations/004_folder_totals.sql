-- Each folder's message count, kept by triggers, so pages never count a
-- 100,000-message folder row by row. Unread counts go through the partial
-- index on unseen messages and stay cheap.
ALTER TABLE folders ADD COLUMN total bigint NOT NULL DEFAULT 0;
UPDATE folders f SET total = (SELECT count(*) FROM messages m WHERE m.folder_id = f.id);

CREATE FUNCTION folders_count_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE folders f SET total = f.total + n.c
    FROM (SELECT folder_id, count(*) AS c FROM new_rows GROUP BY folder_id) n
    WHERE f.id = n.folder_id;
    RETURN NULL;
END;
$$;

CREATE FUNCTION folders_count_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE folders f SET total = f.total - o.c
    FROM (SELECT folder_id, count(*) AS c FROM old_rows GROUP BY folder_id) o
    WHERE f.id = o.folder_id;
    RETURN NULL;
END;
$$;

CREATE TRIGGER messages_count_inserted AFTER INSERT ON messages
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION folders_count_inserted();
CREATE TRIGGER messages_count_deleted AFTER DELETE ON messages
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION folders_count_deleted();
