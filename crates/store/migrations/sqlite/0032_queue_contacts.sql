-- The counter queue, continued (issue 21 items 2, 7 and 8, docs/rules.md §1.1): a ticket
-- taken on the public portal may carry a phone number and/or an email address, for one
-- message when three tickets are ahead (personal data: erased once the ticket is
-- finished or marked absent, and at the end of its day); the instant that message was
-- queued (once per ticket); and the satisfaction given for the ticket at the kiosk
-- (once per ticket, counted for the counter and officer that served it).

ALTER TABLE queue_tickets ADD COLUMN phone TEXT;
ALTER TABLE queue_tickets ADD COLUMN email TEXT;
ALTER TABLE queue_tickets ADD COLUMN near_notified_at BIGINT;
ALTER TABLE queue_tickets ADD COLUMN rating TEXT;
ALTER TABLE queue_tickets ADD COLUMN rated_at BIGINT;
-- The tickets still holding a contact: what the end-of-day erasure looks for.
CREATE INDEX queue_tickets_contact ON queue_tickets (day) WHERE phone IS NOT NULL OR email IS NOT NULL;

-- Secrets this deployment derives values from, made once and shared by every node
-- (`queue_hall`: the key of each centre's code of the day, an HMAC of centre and day).
CREATE TABLE server_secrets (
    name       TEXT   NOT NULL PRIMARY KEY,
    value      TEXT   NOT NULL,
    created_at BIGINT NOT NULL
);
