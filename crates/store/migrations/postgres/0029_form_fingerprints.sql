-- Issued documents found by their SHA-256 (issue 22): the public check page (/xac-thuc)
-- answers whether motcua issued an uploaded PDF by looking its fingerprint up.
CREATE INDEX dossier_forms_sha256 ON dossier_forms (sha256);
