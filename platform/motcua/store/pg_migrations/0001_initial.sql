-- Motcua store on PostgreSQL, schema version 1 (docs/store.md, "PostgreSQL").

-- One row per dossier: the whole dossier as JSONB, the columns the staff queue and the
-- statistics filter on, and its summary row (motcua.store.summary) kept in the same write.
CREATE TABLE dossiers (
    seq            bigint GENERATED ALWAYS AS IDENTITY,  -- filing order within a month
    code           text PRIMARY KEY,
    month          text NOT NULL,          -- filing month in Vietnam time, YYYY-MM
    agency_code    text NOT NULL,
    procedure_code text NOT NULL,
    status         integer NOT NULL,
    filed_at       timestamptz NOT NULL,
    due_date       date,
    name           text NOT NULL DEFAULT '',
    doc            jsonb NOT NULL,
    summary        jsonb NOT NULL,
    summary_format integer NOT NULL
);
CREATE UNIQUE INDEX dossiers_order ON dossiers (month, seq);
CREATE INDEX dossiers_queue ON dossiers (agency_code, status, month, seq);
CREATE INDEX dossiers_procedure ON dossiers (procedure_code, month, seq);
CREATE INDEX dossiers_status ON dossiers (status);
CREATE INDEX dossiers_filed_at ON dossiers (filed_at);

-- Records collections (drafts, accounts, outbox, payments ...): key -> JSONB document.
CREATE TABLE records (
    collection text NOT NULL,
    key        text NOT NULL,
    value      jsonb NOT NULL,
    PRIMARY KEY (collection, key)
);

-- Dossier code sequences: one row per `<agency>-<YYMMDD>`, bumped with UPDATE ... RETURNING
-- (an upsert), so the row lock hands out each number once, in order, without gaps.
CREATE TABLE sequences (
    key text PRIMARY KEY,
    n   bigint NOT NULL
);
