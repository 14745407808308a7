"""The summary fields the staff queue reads: the applicant's name and a running pause.

Summary files written under the previous row format (without those fields) must not be
trusted: they are rebuilt from their chunk, so the queue never sees a short row.
"""

from __future__ import annotations

import json
import zlib
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from motcua.dossier import Contact, Dossier, Event, Status
from motcua.store import open_store
from motcua.store.summary import ROW_FORMAT, summarize
from motcua.store.tinydb_store import decode_summary, summary_path, write_id_of

UTC = timezone.utc


def dossier(code: str, name: str, filed_at: datetime) -> Dossier:
    d = Dossier(
        code=code, procedure_code="p1", spec_version="1", agency_code="H56", channel="desk",
        contact=Contact(name=name), filed_at=filed_at, due_date=date(2025, 5, 20),
    )
    d.record(Event(at=filed_at, actor="citizen", kind="filed", status=Status.NEW))
    return d


def test_summary_carries_the_applicants_name_and_the_pause_start():
    d = dossier("A", "Lê Thị Hoa", datetime(2025, 5, 2, tzinfo=UTC))
    assert summarize(d).name == "Lê Thị Hoa" and summarize(d).paused_since is None
    d.steps["_engine"] = {"paused_since": "2025-05-06", "resume_to": 2}
    assert summarize(d).paused_since == date(2025, 5, 6)


def test_a_summary_file_of_the_previous_row_format_is_rebuilt(tmp_path: Path):
    store = open_store(tmp_path / "data")
    store.dossiers.add(dossier("A", "Lê Thị Hoa", datetime(2025, 5, 2, tzinfo=UTC)))
    store.fold()  # from the journal into the chunk and its summary file
    chunk = tmp_path / "data" / "dossiers" / "2025-05" / "00000.json"
    side = summary_path(chunk)
    write_id, rows = decode_summary(side.read_bytes())
    # The same file as the previous format wrote it: whole, same write id, rows without the
    # two last fields.
    body = json.dumps([row[:13] for row in rows]).encode()
    head = json.dumps({"write": write_id, "format": ROW_FORMAT - 1, "size": len(body), "crc32": zlib.crc32(body)})
    side.write_bytes(head.encode() + b"\n" + body)

    (s,) = store.dossiers.summaries()
    assert s.name == "Lê Thị Hoa"
    again = json.loads(side.read_bytes().partition(b"\n")[0])
    assert again["format"] == ROW_FORMAT and again["write"] == write_id_of(chunk)
    store.close()
