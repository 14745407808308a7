"""`motcua store check` finds each kind of damage by file and code, `--repair` restores what the
folder's own copies can restore and says what it cannot, export refuses damage with a clear
message (or skips it with a list), and the server says so at start (issue 10, finding 6).

Every damage is made for real on a real data folder: files deleted, cut, edited by hand.
"""

from __future__ import annotations

import json
import logging
import os
from datetime import date, datetime, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner

from motcua.app import create_app
from motcua.cli import main as motcua
from motcua.dossier import AttachmentRef, Contact, Dossier, Event, Status
from motcua.store import StoreError, open_store
from motcua.store.layout import bucket, part_of
from tests.conftest import SPECS

AGENCY = "000.00.01.H56"
CHUNK = 10


def _dossier(code: str, attachments: list[AttachmentRef] | None = None) -> Dossier:
    return Dossier(
        code=code, procedure_code="dang-ky-khai-sinh", spec_version="1", agency_code=AGENCY, channel="online",
        contact=Contact(name="Nguyễn Thị Hồng", phone="0912345678"), data={"child": {"full_name": "Trần Minh Khôi"}},
        filed_at=datetime(2025, 5, 10, 3, 0, tzinfo=timezone.utc), attachments=attachments or [],
        events=[Event(actor="citizen", kind="filed", status=Status.NEW)],
    )


@pytest.fixture
def data(tmp_path: Path) -> Path:
    """35 dossiers in chunks of 10 (so 4 chunks), a draft saved twice, one uploaded file."""
    root = tmp_path / "data"
    root.mkdir()
    # write-through (no journal left unfolded): the damage below is done to the chunk files
    (root / "store.json").write_text(json.dumps({"format": "motcua-tinydb", "version": 1, "chunk_size": CHUNK,
                                                 "journal_fold_bytes": 0}))
    store = open_store(root)
    content = b"%PDF-1.4 giay chung sinh"
    file_id = store.files.put(content)
    ref = AttachmentRef(component="giay_chung_sinh", file_id=file_id, filename="cs.pdf", content_type="application/pdf",
                        size=len(content), sha256=file_id)
    for i in range(35):
        code = store.dossiers.next_code(AGENCY, date(2025, 5, 10))
        store.dossiers.add(_dossier(code, [ref] if i == 0 else None))
    store.records("drafts").put("token-1", {"values": {"a": 1}})
    store.records("drafts").put("token-1", {"values": {"a": 2}})
    return root


def code(n: int) -> str:
    return f"{AGENCY}-250510-{n:04d}"


def check(root: Path, *extra: str):
    return CliRunner().invoke(motcua, ["store", "check", "--data", str(root), *extra])


def export(root: Path, out: Path, *extra: str):
    return CliRunner().invoke(motcua, ["export", "--data", str(root), "-o", str(out), *extra])


def test_a_whole_store_checks_clean_and_exports(data: Path, tmp_path: Path) -> None:
    result = check(data)
    assert result.exit_code == 0 and "no damage found" in result.output, result.output
    assert export(data, tmp_path / "x.jsonl").exit_code == 0
    assert open_store(data).quick_check() == []


def test_a_deleted_chunk_is_found_restored_from_its_bak_and_what_is_lost_named(data: Path, tmp_path: Path, caplog) -> None:
    chunk = data / "dossiers" / "2025-05" / "00001.json"
    assert (chunk.parent / "00001.json.bak").exists()
    chunk.unlink()
    assert open_store(data).dossiers.get(code(15)) is None  # what the citizen sees: 404

    # the server says so at start
    with caplog.at_level(logging.ERROR):
        create_app({"DATA_DIR": str(data), "SPECS_DIR": str(SPECS), "TESTING": True})
    assert any(r.levelno == logging.ERROR and "chunk-missing" in r.getMessage() and "00001.json" in r.getMessage()
               for r in caplog.records)

    result = check(data)
    assert result.exit_code == 1
    assert "chunk-missing" in result.output and "dossiers/2025-05/00001.json" in result.output
    assert "10 dossier(s)" in result.output and code(11) in result.output

    # a plain export refuses, naming file and code, without a traceback and without a file
    refused = export(data, tmp_path / "x.jsonl")
    assert refused.exit_code == 1 and "Traceback" not in refused.output
    assert "00001.json" in refused.output and "chunk-missing" in refused.output
    assert not (tmp_path / "x.jsonl").exists() and not (tmp_path / "x.jsonl.part").exists()
    # --skip-damaged backs up the rest, with the list of what it left out
    partial = export(data, tmp_path / "x.jsonl", "--skip-damaged")
    assert partial.exit_code == 0, partial.output
    assert "25 dossiers" in partial.output and "SKIPPED 1" in partial.output
    assert "chunk-missing" in (tmp_path / "x.jsonl.skipped").read_text()

    repaired = check(data, "--repair")
    assert "restored from its .bak" in repaired.output
    # code 20 was the chunk's last write: not in the .bak, said so, and the command fails
    assert repaired.exit_code == 1 and "NOT REPAIRED" in repaired.output and code(20) in repaired.output
    store = open_store(data)
    assert store.dossiers.get(code(15)).code == code(15) and store.dossiers.get(code(20)) is None
    after = check(data)
    assert after.exit_code == 0 and "chunk-short" in after.output  # a note: the count is one short


def test_a_deleted_index_bucket_is_found_and_rebuilt_from_the_chunks(data: Path, caplog) -> None:
    b = part_of(code(7))  # the index file of the office's day, codes 0000-0099 (store/layout.py)
    (data / "dossiers" / "index" / f"{b}.json").unlink()
    lost = [code(n) for n in range(1, 36) if part_of(code(n)) == b]
    assert open_store(data).dossiers.get(code(7)) is None

    with caplog.at_level(logging.ERROR):
        create_app({"DATA_DIR": str(data), "SPECS_DIR": str(SPECS), "TESTING": True})
    assert any("index-entry-missing" in r.getMessage() for r in caplog.records if r.levelno == logging.ERROR)

    result = check(data)
    assert result.exit_code == 1 and "index-entry-missing" in result.output and f"index/{b}.json" in result.output
    assert f"{len(lost)} dossier(s)" in result.output and code(7) in result.output

    repaired = check(data, "--repair")
    assert repaired.exit_code == 0 and "rebuilt from the chunks" in repaired.output
    assert all(open_store(data).dossiers.get(c) is not None for c in lost)
    assert check(data).exit_code == 0


def _edit_chunk(root: Path, n: int, change) -> None:
    path = root / "dossiers" / "2025-05" / f"{n:05d}.json"
    doc = json.loads(path.read_text(encoding="utf-8"))  # keeps "_write" first
    change(doc["_default"])
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")


def test_a_dossier_that_fails_validation_is_named_by_chunk_and_code(data: Path, tmp_path: Path) -> None:
    def spoil(table):
        [doc] = [d for d in table.values() if d["code"] == code(23)]
        doc["status"] = 99

    _edit_chunk(data, 2, spoil)
    result = check(data)
    assert result.exit_code == 1 and "dossier-invalid" in result.output
    assert "dossiers/2025-05/00002.json" in result.output and code(23) in result.output

    refused = export(data, tmp_path / "x.jsonl")
    assert refused.exit_code == 1 and "Traceback" not in refused.output
    assert "00002.json" in refused.output and "dossier-invalid" in refused.output and code(23) in refused.output
    partial = export(data, tmp_path / "x.jsonl", "--skip-damaged")
    assert partial.exit_code == 0 and "34 dossiers" in partial.output and code(23) in partial.output

    repaired = check(data, "--repair")
    assert repaired.exit_code == 1 and "NOT REPAIRED" in repaired.output and "dossier-invalid" in repaired.output


def test_a_damaged_store_marker_stops_the_start_with_a_message_and_is_rewritten(data: Path) -> None:
    (data / "store.json").write_text('{"format": "motcua-tin')
    with pytest.raises(StoreError, match="store.json"):
        create_app({"DATA_DIR": str(data), "SPECS_DIR": str(SPECS), "TESTING": True})
    started = CliRunner().invoke(motcua, ["serve", "--data", str(data), "--specs", str(SPECS), "--port", "1"])
    assert started.exit_code == 1 and "Traceback" not in started.output
    assert "store.json" in started.output and "store-marker-damaged" in started.output

    result = check(data)
    assert result.exit_code == 1 and "store-marker-damaged" in result.output
    repaired = check(data, "--repair")
    assert repaired.exit_code == 0 and f"chunk size {CHUNK}" in repaired.output
    assert json.loads((data / "store.json").read_text())["chunk_size"] == CHUNK
    assert check(data).exit_code == 0 and open_store(data).dossiers.count() == 35


def test_an_empty_secret_key_is_replaced_with_a_warning_and_a_weak_one_stops_the_start(data: Path, caplog) -> None:
    config = {"DATA_DIR": str(data), "SPECS_DIR": str(SPECS), "TESTING": True}
    create_app(config)
    (data / "secret_key").write_text("")
    assert "secret-key-empty" in check(data).output
    with caplog.at_level(logging.WARNING):
        app = create_app(config)
    assert any("was empty" in r.getMessage() for r in caplog.records)
    assert len((data / "secret_key").read_text()) >= 32
    assert (data / "secret_key").stat().st_mode & 0o077 == 0
    client = app.test_client()
    assert client.get("/staff/login").status_code == 200  # a page with a session (CSRF token)

    (data / "secret_key").write_text("short")
    with pytest.raises(StoreError, match="secret_key"):
        create_app(config)
    result = check(data)
    assert result.exit_code == 1 and "secret-key-weak" in result.output


def test_a_sequence_behind_the_codes_in_use_is_found_and_moved_on(data: Path) -> None:
    store = open_store(data)
    prefix = f"{AGENCY}-250510"
    store.records("sequences").put(prefix, {"n": 3})
    result = check(data)
    assert result.exit_code == 1 and "sequence-behind" in result.output and f"{prefix}-0035" in result.output
    assert check(data, "--repair").exit_code == 0
    assert open_store(data).dossiers.next_code(AGENCY, date(2025, 5, 10)) == code(36)


def test_a_damaged_records_bucket_is_restored_from_its_bak(data: Path) -> None:
    path = data / "records" / "drafts" / f"{bucket('token-1')}.json"
    path.write_bytes(path.read_bytes()[:20])
    result = check(data)
    assert result.exit_code == 1 and "records-damaged" in result.output and f"drafts/{bucket('token-1')}.json" in result.output
    repaired = check(data, "--repair")
    assert repaired.exit_code == 0 and "restored from its .bak" in repaired.output
    assert open_store(data).records("drafts").get("token-1") == {"values": {"a": 1}}  # the version before the last write


def test_a_damaged_or_missing_upload_is_found_and_not_exported_silently(data: Path, tmp_path: Path) -> None:
    [path] = [p for p in (data / "files").rglob("*") if p.is_file()]
    path.write_bytes(b"changed")
    result = check(data)
    assert result.exit_code == 1 and "file-damaged" in result.output and path.name in result.output
    refused = export(data, tmp_path / "x.jsonl")
    assert refused.exit_code == 1 and "file-damaged" in refused.output and "Traceback" not in refused.output
    assert export(data, tmp_path / "x.jsonl", "--skip-damaged").exit_code == 0
    path.unlink()
    missing = check(data)
    assert missing.exit_code == 1 and "file-missing" in missing.output and code(1) in missing.output
    assert check(data, "--repair").exit_code == 1  # nothing in the folder can bring it back: said so


def test_the_damage_message_reads_as_a_sentence_whatever_the_remedies(tmp_path: Path) -> None:
    root = tmp_path / "data"
    store = open_store(root)
    store.records("accounts").put("lan", {"role": "staff"})  # first write: no .bak yet
    store.fold()
    [path] = (root / "records" / "accounts").glob("*.json")
    path.write_text("{")
    with pytest.raises(StoreError) as err:
        store.records("accounts").get("lan")
    message = str(err.value)
    assert "then or" not in message and "then ;" not in message
    assert "records-damaged" in message and "motcua store check --repair" in message and str(path) in message
    os.remove(path)
