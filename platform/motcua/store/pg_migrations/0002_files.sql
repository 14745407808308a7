-- Uploaded files in the database (docs/store.md, "Files on PostgreSQL"): bytea rows by
-- content id, so every web server of a deployment reads the same files with no shared
-- folder, and one pg_dump or replica carries dossiers and their files together.
CREATE SEQUENCE files_version;
CREATE TABLE files (
    file_id   text PRIMARY KEY CHECK (file_id ~ '^[0-9a-f]{64}$'),  -- sha256 hex
    data      bytea NOT NULL,
    size      bigint NOT NULL,
    stored_at timestamptz NOT NULL,   -- last put (a put of the same bytes again moves it)
    version   bigint NOT NULL         -- from files_version: changes with every put
);
-- Scans, PDFs and photos are compressed already: store them out of line, uncompressed.
ALTER TABLE files ALTER COLUMN data SET STORAGE EXTERNAL;
