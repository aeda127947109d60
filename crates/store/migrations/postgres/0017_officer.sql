-- The officer a dossier counts for in the statistics (`core::stats::officer`): who handled
-- it in the responsible department, kept after the result is ready. Dossiers stored before
-- this column count for their current assignee, as they did.
ALTER TABLE dossiers ADD COLUMN officer_id TEXT;
UPDATE dossiers SET officer_id = assignee_id;
