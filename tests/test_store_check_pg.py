"""`motcua store check` on a PostgreSQL store: summaries and columns against the dossiers,
sequences against the codes, files against the dossiers that name them (a real database of
its own per test, the command run as an operator runs it)."""

from __future__ import annotations

import hashlib
from datetime import date, datetime, timezone
from pathlib import Path

from click.testing import CliRunner

from motcua.cli import main as motcua
from motcua.dossier import AttachmentRef, Contact, Dossier, Event, Status
from motcua.store import open_store

UTC = timezone.utc


def filed(store, scan: bytes) -> Dossier:
    file_id = store.files.put(scan)
    code = store.dossiers.next_code("H56", date(2025, 5, 10))
    dossier = Dossier(
        code=code, procedure_code="dang-ky-khai-sinh", spec_version="1", agency_code="000.00.01.H56",
        channel="online", contact=Contact(name="Nguyễn Thị Hồng", phone="0912345678"),
        data={"child": {"full_name": "Trần Minh Khôi"}}, filed_at=datetime(2025, 5, 10, 3, 0, tzinfo=UTC),
        events=[Event(actor="citizen", kind="filed", status=Status.NEW)],
        attachments=[AttachmentRef(component="to-khai", file_id=file_id, filename="tờ khai.pdf",
                                   content_type="application/pdf", size=len(scan),
                                   sha256=hashlib.sha256(scan).hexdigest())],
    )
    store.dossiers.add(dossier)
    return dossier


def check(data: Path, url: str, *extra: str):
    return CliRunner().invoke(motcua, ["store", "check", "--data", str(data), "--store", url, *extra])


def test_a_clean_database_checks_clean(pg_url: str, tmp_path: Path) -> None:
    data = tmp_path / "data"
    store = open_store(pg_url, data)
    filed(store, b"%PDF-1.4 to khai")
    store.close()
    result = check(data, pg_url)
    assert result.exit_code == 0, result.output
    assert "no damage found" in result.output
    # the folder's marker names the database: no --store needed
    result = CliRunner().invoke(motcua, ["store", "check", "--data", str(data)])
    assert result.exit_code == 0 and "no damage found" in result.output, result.output


def test_drifted_rows_sequences_and_files_are_found_and_what_is_derived_repaired(pg_url: str, tmp_path: Path) -> None:
    data = tmp_path / "data"
    store = open_store(pg_url, data)
    first = filed(store, b"%PDF first")
    second = filed(store, b"%PDF second")
    third = filed(store, b"%PDF third")
    orphan = store.files.put(b"an upload nobody filed")
    with store._db.connection() as conn:
        conn.execute("UPDATE dossiers SET status = 99 WHERE code = %s", (first.code,))
        conn.execute("UPDATE dossiers SET summary = '[]'::jsonb WHERE code = %s", (second.code,))
        conn.execute("UPDATE sequences SET n = 1")
        conn.execute("DELETE FROM files WHERE file_id = %s", (third.attachments[0].file_id,))
        conn.execute("UPDATE files SET data = 'x'::bytea WHERE file_id = %s", (second.attachments[0].file_id,))
    store.close()

    result = check(data, pg_url)
    assert result.exit_code == 1, result.output
    found = {line.split()[1]: line for line in result.output.splitlines() if line.startswith(("DAMAGE", "note"))}
    assert first.code in found["columns-mismatch"] and "status" in found["columns-mismatch"]
    assert second.code in found["summary-mismatch"]
    assert "is at 1 but code" in found["sequence-behind"] and third.code in found["sequence-behind"]
    assert third.code in found["file-missing"]
    assert second.attachments[0].file_id in found["file-damaged"]
    assert orphan in found["file-orphan"] and found["file-orphan"].startswith("note")

    result = check(data, pg_url, "--repair")
    assert result.exit_code == 1, result.output  # the lost and damaged files cannot be repaired here
    assert "NOT REPAIRED" in result.output and "2 sequence" not in result.output

    result = check(data, pg_url)
    left = {line.split()[1] for line in result.output.splitlines() if line.startswith(("DAMAGE", "note"))}
    assert left == {"file-missing", "file-damaged", "file-orphan"}, result.output
    store = open_store(pg_url, data)
    try:
        assert store.dossiers.next_code("H56", date(2025, 5, 10)).endswith("-0004")
        assert [s.status for s in store.dossiers.summaries()] == [Status.NEW] * 3
        assert store.dossiers.find(status=Status.NEW)[0].code == first.code
    finally:
        store.close()
