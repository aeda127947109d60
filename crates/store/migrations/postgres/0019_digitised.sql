-- What the Decision 766 service index counts of a dossier, as columns written from the
-- dossier with the others (`dossiers::dossier_row`, `dossiers::save`), so that its queries
-- count columns instead of matching the JSON document's text:
--   has_digitised_documents: a received document has an uploaded scan
--     (`motcua_core::evaluation::has_digitised_documents`);
--   has_electronic_result: the result has an electronic file
--     (`motcua_core::evaluation::has_electronic_result`).
-- Rows stored before this migration are filled from their JSON document, read as JSON.
ALTER TABLE dossiers ADD COLUMN has_digitised_documents BIGINT NOT NULL DEFAULT 0;
ALTER TABLE dossiers ADD COLUMN has_electronic_result BIGINT NOT NULL DEFAULT 0;
UPDATE dossiers SET has_digitised_documents = 1
WHERE EXISTS (
    SELECT 1 FROM jsonb_array_elements(CAST(dossiers.data AS jsonb) -> 'documents') AS doc
    WHERE jsonb_array_length(doc -> 'files') > 0
);
UPDATE dossiers SET has_electronic_result = 1
WHERE jsonb_array_length(CAST(dossiers.data AS jsonb) -> 'result_files') > 0;
