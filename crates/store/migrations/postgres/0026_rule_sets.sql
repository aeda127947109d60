-- The rules that move with the law as versioned data (docs/rules.md §9, issue 25 item 3).
-- The versions motcua ships are compiled in (`motcua_core::rules::SHIPPED`); this table
-- holds the versions an administrator loaded from a file later, each kept as loaded (its
-- JSON text and SHA-256), with the day it takes effect. Versions are only ever added: a
-- period is scored by the version in force on its first day, so a later version changes
-- only the periods from its day on.
--
-- The sub-criteria of the service index are part of each version now, so the editable
-- table of migrations 15 and 25 goes: an edit in place rescored past periods. Edits made
-- to it are kept in the audit log (`service_index.criterion.edit`).
CREATE TABLE rule_sets (
    version TEXT PRIMARY KEY,
    effective_from TEXT NOT NULL UNIQUE,
    body TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    loaded_at BIGINT NOT NULL,
    loaded_by TEXT NOT NULL
);

DROP TABLE service_index_criteria;
