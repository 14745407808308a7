-- Schema version 3: statistics and the staff queue flat with history (docs/store.md,
-- "PostgreSQL", "Indexes").

-- The Vietnam day a dossier was closed: first settled (refused included) or withdrawn, as its
-- summary says (`DossierSummary.closed_on`); NULL while open (a stopped dossier is open).
-- `summaries(active_since=day)` reads only the rows closed on or after a period's start,
-- still open, or filed since: the year statistics no longer read every year before.
ALTER TABLE dossiers ADD COLUMN closed_on date;
-- Rows of summary layout 5 (motcua.store.summary.ROW_FORMAT when this was written): settled
-- is item 9, withdrawn item 11, never both. Rows of another layout stay NULL (read as open,
-- so never left out) until `refresh_summaries` rewrites them with their closed_on.
UPDATE dossiers SET closed_on = coalesce(summary->>9, summary->>11)::date
 WHERE summary_format = 5 AND coalesce(summary->>9, summary->>11) IS NOT NULL;
CREATE INDEX dossiers_closed_on ON dossiers (closed_on);

-- The staff queue also lists the dossiers at another agency's processing stage (liên thông,
-- `liaison_agency` in the engine's state): without an index on it, the queue's OR made
-- PostgreSQL read the whole table. Few dossiers have one: a partial index.
CREATE INDEX dossiers_liaison ON dossiers (((doc->'steps'->'_engine'->>'liaison_agency')), status)
 WHERE doc->'steps'->'_engine'->>'liaison_agency' IS NOT NULL;
