-- The counter's call looks for the oldest waiting ticket of the groups it serves, of one
-- line (booked, priority, ordinary), today: `WHERE group_id IN (…) AND day = ? AND
-- state = 'waiting' AND … ORDER BY taken_at, id LIMIT 1`. The index on (group_id, state,
-- taken_at, id) answers it by reading every waiting ticket of those groups and sorting;
-- this one holds only the waiting tickets, in the order of the call, so the first match
-- ends the scan. W6 (bench/RESULTS.md) on PostgreSQL: call p50 6.6 → 4.5–5.1 ms.
CREATE INDEX queue_tickets_waiting_order ON queue_tickets (day, taken_at, id) WHERE state = 'waiting';
