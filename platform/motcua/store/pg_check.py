"""`motcua store check` on a PostgreSQL store: what the database can still get wrong.

PostgreSQL keeps its own pages whole (WAL, checksums), so there are no torn files to
restore here; what can still disagree is what Motcua derives or keeps beside the dossier
(docs/store.md, "Checking a PostgreSQL store"):

- a dossier row whose JSON no longer validates (`dossier-invalid`), or whose columns
  (agency, procedure, status, filing month, due date, closing day) say something else than its JSON
  (`columns-mismatch`: the staff queue and statistics filter on the columns);
- a summary row that is not what `summary_row` derives from the JSON (`summary-mismatch`);
- a code sequence behind a code in use (`sequence-behind`: the next filing would fail);
- an uploaded file whose bytes no longer match their sha256 (`file-damaged`), a file a
  dossier names that is gone (`file-missing`), and files nothing refers to (`file-orphan`,
  a note: `motcua purge` removes them after its grace period).

`repair=True` rewrites what is derived (columns and summaries from the JSON, sequences past
the highest code); invalid dossiers and damaged or missing files are restored from a backup
or an export, by hand.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date
from typing import Any

from pydantic import ValidationError

from motcua.dossier import Dossier
from motcua.store.check import _CODE, Report
from motcua.store.pg_store import ROW_FORMAT, PgFiles, PgStore, _columns
from motcua.store.summary import summary_row

_COLUMNS = ("month", "agency_code", "procedure_code", "status", "due_date", "name", "closed_on")


def _comparable(name: str, value: Any) -> Any:
    if name in ("due_date", "closed_on") and isinstance(value, str):
        return date.fromisoformat(value[:10])
    return value


def check_pg_store(store: PgStore, repair: bool = False, files: bool = True) -> Report:
    """Every finding on `store` (and, with `repair`, what was rewritten); reads every row."""
    from psycopg.types.json import Jsonb

    from motcua.purge import dossier_file_ids, draft_file_ids

    report = Report()
    highest: dict[str, int] = {}
    referenced: set[str] = set()
    named: dict[str, list[str]] = {}
    fix_rows: list[str] = []
    with store._db.connection(atomic=True) as conn:
        with conn.cursor(name="motcua_check") as cur:
            cur.itersize = 1000
            cur.execute("SELECT code, doc, summary, summary_format, month, agency_code, procedure_code, status,"
                        " due_date, name, closed_on FROM dossiers ORDER BY month, seq")
            for code, doc, summary, summary_format, *stored in cur:
                where = f"dossiers/{code}"
                m = _CODE.match(code)
                if m:
                    highest[m.group(1)] = max(highest.get(m.group(1), 0), int(m.group(2)))
                try:
                    dossier = Dossier.model_validate(doc)
                except ValidationError as exc:
                    first = exc.errors()[0]
                    report.add("dossier-invalid", where, f"the dossier does not validate: "
                               f"{'.'.join(str(p) for p in first['loc'])}: {first['msg']}")
                    continue
                for file_id in dossier_file_ids(dossier):
                    referenced.add(file_id)
                    named.setdefault(file_id, []).append(code)
                expected = _columns(doc)
                wrong = [n for n, v in zip(_COLUMNS, stored) if _comparable(n, expected[n]) != v]
                if wrong:
                    report.add("columns-mismatch", where, f"its {', '.join(wrong)} column(s) say something else "
                               "than its JSON: the staff queue and statistics would misplace it")
                    fix_rows.append(code)
                elif summary_format == ROW_FORMAT and summary != json.loads(json.dumps(summary_row(doc))):
                    report.add("summary-mismatch", where, "its summary row says something else than the dossier: "
                               "statistics and the staff queue would be wrong")
                    fix_rows.append(code)
        sequences = dict(conn.execute("SELECT key, n FROM sequences").fetchall())
        for (draft,) in conn.execute("SELECT value FROM records WHERE collection = 'drafts'"):
            if isinstance(draft, dict):
                referenced.update(draft_file_ids(draft))

    behind = {p: (sequences.get(p, 0), top) for p, top in highest.items() if sequences.get(p, 0) < top}
    for prefix, (n, top) in sorted(behind.items()):
        report.add("sequence-behind", f"sequences/{prefix}", f"sequence {prefix} is at {n} but code "
                   f"{prefix}-{top:04d} exists: the next filing would get a code already used and fail")

    stored_ids = set(store.files.ids())
    for file_id in sorted(set(named) - stored_ids):
        report.add("file-missing", f"files/{file_id}", f"dossier {', '.join(named[file_id][:5])} names this file, "
                   "which is not there: restore it from a backup or an export")
    orphans = sorted(stored_ids - referenced)
    if orphans:
        report.add("file-orphan", "files", f"{len(orphans)} file(s) no dossier or draft refers to "
                   f"(first {orphans[0]}): `motcua purge` removes them once older than its grace period",
                   serious=False)
    if files and isinstance(store.files, PgFiles):
        with store._db.connection(atomic=True) as conn, conn.cursor(name="motcua_check_files") as cur:
            cur.itersize = 20  # a file is up to MAX_CONTENT_LENGTH: few in memory at once
            cur.execute("SELECT file_id, data FROM files ORDER BY file_id")
            for file_id, data in cur:
                if hashlib.sha256(bytes(data)).hexdigest() != file_id:
                    report.add("file-damaged", f"files/{file_id}", "its content no longer matches its sha256")
    elif files:
        for file_id in sorted(stored_ids):
            try:
                store.files.read(file_id)
            except Exception as exc:  # StoreDamaged; an unreadable file is reported, not raised
                report.add("file-damaged", f"files/{file_id}", str(exc))

    if repair:
        with store.transaction(), store._db.connection() as conn:
            for code in fix_rows:
                (doc,) = conn.execute("SELECT doc FROM dossiers WHERE code = %s FOR UPDATE", (code,)).fetchone()
                cols = _columns(doc)
                conn.execute(
                    "UPDATE dossiers SET " + ", ".join(f"{n} = %({n})s" for n in _COLUMNS)
                    + ", summary = %(summary)s, summary_format = %(fmt)s WHERE code = %(code)s",
                    {**{n: cols[n] for n in _COLUMNS}, "summary": Jsonb(summary_row(doc)), "fmt": ROW_FORMAT,
                     "code": code},
                )
            for prefix, (_n, top) in behind.items():
                conn.execute("INSERT INTO sequences (key, n) VALUES (%s, %s)"
                             " ON CONFLICT (key) DO UPDATE SET n = greatest(sequences.n, excluded.n)", (prefix, top))
        if fix_rows:
            report.repaired.append(f"dossiers: {len(fix_rows)} row(s) whose columns or summary were rewritten from "
                                   "their JSON")
        if behind:
            report.repaired.append(f"sequences: {len(behind)} sequence(s) moved past the highest code in use")
        for f in report.findings:
            if f.code in ("dossier-invalid", "file-damaged", "file-missing"):
                report.not_repaired.append(f"{f.path}: {f.message.split(':')[0]} (restore from a backup or export)")
    return report
