-- The dossiers overdue now (dashboards' overdue-by-age chart and the overdue lists): only
-- unfinished dossiers, by due date, with the status and department the query filters and
-- groups by, so the list is an index-only scan instead of a heap visit for every
-- unfinished dossier already due (paused ones included).
CREATE INDEX dossiers_overdue ON dossiers (province_code, due_at) INCLUDE (status, responsible_agency, id)
    WHERE finished_at IS NULL;
