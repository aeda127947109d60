-- The digital signature status of a stored document (issue 24, docs/documents.md): what the
-- verifier (`motcua_sign::verify_pdf`, the same check as `POST /api/v1/verify`) said of
-- the file when it entered the store. `signature` is the worst verdict of its signatures in
-- the verifier's own categories (`valid`, `changed_after_signing`, `unknown_issuer`,
-- `altered`, `invalid`), or `unsigned` (a PDF without a signature, or a picture); NULL for
-- a document that entered before this migration (never checked). `signature_signer` and
-- `signature_signed_at` (milliseconds since the epoch) are those of the first signature;
-- `signature_text` is every signature's verdict in one Vietnamese sentence each.
-- Same columns and types on SQLite and PostgreSQL.

ALTER TABLE stored_documents ADD COLUMN signature TEXT;
ALTER TABLE stored_documents ADD COLUMN signature_signer TEXT;
ALTER TABLE stored_documents ADD COLUMN signature_signed_at BIGINT;
ALTER TABLE stored_documents ADD COLUMN signature_text TEXT;
