"""The lint cache's file (motcua.spec_cache): what a start reads of each spec, the rest read
on first use, and files known unchanged by their stat (issue 17's start-up goal)."""

from __future__ import annotations

import copy
import json
import logging
import os
import pickle
from pathlib import Path

import pytest

from motcua import catalogue as catalogue_module
from motcua import spec_cache
from motcua.catalogue import CACHE_FILE, Catalogue
from motcua.spec.loader import load_file
from motcua.spec.model import ProcedureSpec
from tests.conftest import SPEC_CACHE_ENV
from tests.portal_helpers import BIRTH, BIRTH_CODE, REPO, birth_spec, write_spec

SHIPPED = REPO / "procedure_specs"


def new_process() -> None:
    """What a new process starts with: nothing linted or hashed in memory, only the file."""
    catalogue_module._LINTED.clear()
    catalogue_module._HASHES.known.clear()


@pytest.fixture(autouse=True)
def _fresh_process(monkeypatch):
    """Each test starts as a new process would: a folder this process linted before (another
    test's) would otherwise come from memory and the file would not be written. The cache is
    the data folder's (the run's shared SPEC_CACHE_DIR unset)."""
    new_process()
    monkeypatch.delenv(SPEC_CACHE_ENV, raising=False)


def read_back(spec: ProcedureSpec) -> ProcedureSpec:
    """A spec as the cache keeps it (its JSON validated again: `10` in a float field reads back as `10.0`)."""
    return ProcedureSpec.model_validate_json(spec.model_dump_json(by_alias=True))


def rewrite(cache: Path, change) -> None:
    """Rewrite the cache file with `change(entry, spec_json) -> spec_json` applied to each entry."""
    data = cache.read_bytes()
    end = data.index(b"\n") + 1
    header = json.loads(data[:end])
    blobs, at = [], 0
    for entry in header["entries"]:
        blob = data[end + entry["at"]:end + entry["at"] + entry["length"]]
        blob = change(entry, blob)
        entry["at"], entry["length"] = at, len(blob)
        at += len(blob)
        blobs.append(blob)
    cache.write_bytes(json.dumps(header).encode() + b"\n" + b"".join(blobs))


def test_a_cached_spec_reads_the_rest_on_first_use_and_equals_the_linted_one(tmp_path):
    data = tmp_path / "data"
    linted = {spec.code: spec for spec in Catalogue.from_folder(SHIPPED, data)}
    new_process()
    cached = Catalogue.from_folder(SHIPPED, data)
    assert len(cached) == len(linted) >= 10
    for spec in cached:
        assert isinstance(spec, spec_cache.LazySpec)  # the start read its summary only
        assert spec.key == linted[spec.code].key and spec.name == linted[spec.code].name
        assert type(spec) is spec_cache.LazySpec  # ... and still has not read the rest
        assert spec.form == linted[spec.code].form  # first use of the rest
        assert type(spec) is ProcedureSpec
        assert spec == linted[spec.code]
        assert spec.model_dump(mode="json") == linted[spec.code].model_dump(mode="json")
        assert spec.model_fields_set == read_back(linted[spec.code]).model_fields_set


def test_whatever_reads_a_whole_unread_spec_reads_it_first(tmp_path):
    data = tmp_path / "data"
    write_spec(tmp_path / "specs", "a", birth_spec())
    linted = load_file(BIRTH).spec
    Catalogue.from_folder(tmp_path / "specs", data)

    def unread() -> ProcedureSpec:
        new_process()
        spec = Catalogue.from_folder(tmp_path / "specs", data).get(BIRTH_CODE)
        assert type(spec) is spec_cache.LazySpec
        return spec

    assert unread().model_dump() == linted.model_dump()
    assert unread().model_dump_json() == linted.model_dump_json()
    assert linted == unread() and unread() == linted
    assert copy.deepcopy(unread()) == linted and copy.copy(unread()) == linted
    assert unread().model_copy(update={"version": "9"}).form == linted.form
    assert pickle.loads(pickle.dumps(unread())) == linted
    assert type(pickle.loads(pickle.dumps(unread()))) is ProcedureSpec
    assert dict(unread()) == dict(linted)
    assert repr(unread()) == repr(read_back(linted)) and str(unread()) == str(read_back(linted))


def test_a_cache_entry_the_model_refuses_costs_a_lint_of_its_file_not_a_bad_spec(tmp_path, caplog):
    specs, data = tmp_path / "specs", tmp_path / "data"
    write_spec(specs, "a", birth_spec())
    Catalogue.from_folder(specs, data)
    rewrite(data / CACHE_FILE, lambda entry, blob: blob.replace(b'"sign_in":', b'"bogus_key":1,"sign_in":'))
    new_process()
    spec = Catalogue.from_folder(specs, data).get(BIRTH_CODE)
    with caplog.at_level(logging.WARNING, logger="motcua.spec_cache"):
        assert spec.form == load_file(BIRTH).spec.form
    assert "does not read back" in caplog.text and not hasattr(spec, "bogus_key")
    assert spec == load_file(BIRTH).spec


def test_a_summary_that_disagrees_with_its_file_is_an_error_not_a_wrong_spec(tmp_path):
    specs, data = tmp_path / "specs", tmp_path / "data"
    write_spec(specs, "a", birth_spec())
    Catalogue.from_folder(specs, data)
    cache = data / CACHE_FILE
    header, rest = cache.read_bytes().split(b"\n", 1)
    document = json.loads(header)
    document["entries"][0]["summary"]["name"] = {"vi": "Tên khác", "en": "Another name"}
    cache.write_bytes(json.dumps(document).encode() + b"\n" + rest)
    new_process()
    spec = Catalogue.from_folder(specs, data).get(BIRTH_CODE)
    with pytest.raises(spec_cache.SpecCacheError):
        spec.form  # noqa: B018 - the first use reads the rest


def test_an_unread_spec_is_written_back_as_it_was_read(tmp_path):
    specs, data = tmp_path / "specs", tmp_path / "data"
    write_spec(specs, "a", birth_spec())
    linted = load_file(BIRTH).spec
    Catalogue.from_folder(specs, data)
    new_process()
    Catalogue.from_folder(specs, data)  # unread specs ...
    write_spec(specs, "b", birth_spec() | {"code": "9.000001"})
    Catalogue.from_folder(specs, data)  # ... copied into the file written for the new one
    new_process()
    again = Catalogue.from_folder(specs, data)
    assert again.get(BIRTH_CODE) == linted and again.get("9.000001").name == linted.name


def test_a_new_file_is_hashed_at_every_start_until_its_times_are_old(tmp_path):
    specs, data = tmp_path / "specs", tmp_path / "data"
    write_spec(specs, "a", birth_spec())
    Catalogue.from_folder(specs, data)
    assert [entry["stat"] for entry in spec_cache.entries(data / CACHE_FILE)] == [None]


def test_a_file_rewritten_with_its_old_size_and_mtime_is_linted_again(tmp_path, monkeypatch, caplog):
    """The change time is in the stat compared, and nobody can set it back."""
    monkeypatch.setattr(spec_cache, "RACY_NS", 0)  # trust stats at once: the files are not 2 s old
    specs, data = tmp_path / "specs", tmp_path / "data"
    path = write_spec(specs, "a", birth_spec())
    Catalogue.from_folder(specs, data)
    info = path.stat()
    [entry] = spec_cache.entries(data / CACHE_FILE)
    assert entry["stat"] == [info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino]

    text = path.read_text(encoding="utf-8")
    changed = text.replace("Đăng ký khai sinh", "Đăng ký khai tử", 1)
    assert changed != text and len(changed.encode()) == len(text.encode())
    path.write_text(changed, encoding="utf-8")
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns))
    assert path.stat().st_mtime_ns == info.st_mtime_ns and path.stat().st_size == info.st_size
    for fresh in (False, True):  # this process's own hashes, then a new process's
        if fresh:
            new_process()
        assert Catalogue.from_folder(specs, data).get(BIRTH_CODE).name["vi"].startswith("Đăng ký khai tử")


def test_an_unchanged_file_is_known_by_its_stat(tmp_path, monkeypatch):
    monkeypatch.setattr(spec_cache, "RACY_NS", 0)
    specs, data = tmp_path / "specs", tmp_path / "data"
    path = write_spec(specs, "a", birth_spec())
    Catalogue.from_folder(specs, data)
    new_process()
    cached = spec_cache.read(data / CACHE_FILE, catalogue_module._LINTED_FINGERPRINT, lambda key: lambda: None)
    resolved = str(path.resolve())
    assert cached.stats[resolved][1] == spec_cache.content_hash(path)
    Catalogue.from_folder(specs, data)
    assert catalogue_module._HASHES.lookup(resolved, spec_cache.stat_of(path)[0]) == cached.stats[resolved][1]


def test_a_restarted_portal_serves_and_files_with_specs_read_on_first_use(tmp_path):
    """A restart: every spec comes from the cache file, unread; the listing, the search, the
    pages, the API and a filing (which snapshots the spec) work on them as on linted ones."""
    import base64

    from motcua.app import create_app
    from tests.portal_helpers import small_pdf

    config = {"DATA_DIR": str(tmp_path / "data"), "SPECS_DIR": str(SHIPPED), "TESTING": True}
    create_app(config).extensions["motcua"].store.close()
    new_process()
    app = create_app(config)
    catalogue = app.extensions["motcua"].catalogue
    assert {type(spec) for spec in catalogue} == {spec_cache.LazySpec}
    client = app.test_client()
    assert client.get("/").status_code == 200 and client.get("/?q=khai+sinh").status_code == 200
    assert {type(spec) for spec in catalogue} == {spec_cache.LazySpec}  # listing and search read summaries only
    assert "Đăng ký khai sinh" in client.get(f"/thu-tuc/{BIRTH_CODE}").get_data(as_text=True)
    assert client.get(f"/thu-tuc/{BIRTH_CODE}/nop").status_code == 200
    assert client.get(f"/api/v1/procedures/{BIRTH_CODE}").json["submission_schema"]["type"] == "object"
    body = {
        "agency": "000.06.50.H15",
        "answers": {
            "requester": {"full_name": "Lê Thị Hoa", "cccd": "079190012345", "phone": "0987654321", "relation": "me"},
            "child": {"full_name": "Lê Gia Bảo", "birth_date": "2025-05-20", "sex": "nam", "ethnicity": "Kinh",
                      "nationality": "Việt Nam", "birth_place": "Bệnh viện Từ Dũ"},
            "mother": {"full_name": "Lê Thị Hoa", "birth_year": 1992},
            "has_father": False, "birth_proof": "giay_chung_sinh", "extract_copies": 1,
        },
        "delivery": {"kind": "desk"},
        "attachments": [{"component": "giay_chung_sinh", "filename": "cs.pdf",
                         "content_base64": base64.b64encode(small_pdf()).decode()}],
    }
    filed = client.post(f"/api/v1/procedures/{BIRTH_CODE}/dossiers", json=body)
    assert filed.status_code == 201, filed.json
    store = app.extensions["motcua"].store
    snapshot = store.records("spec_versions").get(catalogue.get(BIRTH_CODE).key)
    assert snapshot == load_file(BIRTH).spec.model_dump(mode="json", by_alias=True)
    store.close()


def test_a_broken_spec_is_reported_with_its_line_from_the_cache_too(tmp_path):
    specs, data = tmp_path / "specs", tmp_path / "data"
    write_spec(specs, "a", birth_spec())
    broken = write_spec(specs, "b", birth_spec() | {"code": "9.000001", "bogus_key": 1})
    first = Catalogue.from_folder(specs, data)
    new_process()
    again = Catalogue.from_folder(specs, data)
    errors = [str(p) for p in again.problems if p.severity == "error"]
    assert errors and errors == [str(p) for p in first.problems if p.severity == "error"]
    assert all(e.startswith(f"{broken}:") and e.split(":")[1].isdigit() and int(e.split(":")[1]) > 1 for e in errors)
    assert again.get("9.000001") is None and again.get(BIRTH_CODE) is not None


def test_processes_sharing_a_spec_cache_dir_lint_once_whatever_their_data_folders(tmp_path, caplog):
    """SPEC_CACHE_DIR (docs/deploy.md): the lint cache lives there, not in the data folder, and
    a start on another data folder reads it instead of linting the specs again."""
    from motcua.app import create_app

    shared = tmp_path / "cache"
    shared.mkdir(mode=0o700)
    first = {"DATA_DIR": str(tmp_path / "a"), "SPECS_DIR": str(SHIPPED), "TESTING": True, "SPEC_CACHE_DIR": str(shared)}
    create_app(first).extensions["motcua"].store.close()
    assert (shared / CACHE_FILE).exists() and not (tmp_path / "a" / CACHE_FILE).exists()
    new_process()
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="motcua.catalogue"):
        app = create_app({**first, "DATA_DIR": str(tmp_path / "b")})
    app.extensions["motcua"].store.close()
    assert {type(spec) for spec in app.extensions["motcua"].catalogue} == {spec_cache.LazySpec}  # all from the file
    assert not (tmp_path / "b" / CACHE_FILE).exists()
    assert not [r for r in caplog.records if r.getMessage().startswith("linted")]
