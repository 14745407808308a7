"""Nothing is left behind, nothing is edited that must not be.

A refused filing stores no file; a filing that fails after storing takes its files back;
drafts expire (DRAFT_DAYS) with a clear page; `motcua purge` removes exactly the expired
drafts and the unreferenced old files and never a dossier's; the stored events of a dossier
are an append-only prefix the store enforces. Real app, real TinyDB folder in tmp.
"""

from __future__ import annotations

import base64
import io
import os
import re
from datetime import datetime, timedelta, timezone

import pytest
from click.testing import CliRunner

from motcua import drafts
from motcua.cli import main
from motcua.dossier import Event
from motcua.i18n import format_date
from motcua.store import open_store
from motcua.store.base import EventsRewritten, StoreError
from motcua.workdays import VN_TZ
from tests.portal_helpers import BIRTH_CODE, csrf, small_pdf
from tests.test_api_portal import ANSWERS, body

API = f"/api/v1/procedures/{BIRTH_CODE}/dossiers"


def store_of(app):
    return app.extensions["motcua"].store


def file_ids(app) -> set[str]:
    return set(store_of(app).files.ids())


def pdf_b64(text: str) -> str:
    return base64.b64encode(small_pdf(text)).decode()


def age(app, file_id: str, days: float) -> None:
    """Make a stored file look `days` old (its mtime is when it was last stored)."""
    path = app.config["DATA_DIR"] + f"/files/{file_id[:2]}/{file_id}"
    then = (datetime.now(timezone.utc) - timedelta(days=days)).timestamp()
    os.utime(path, (then, then))


# --- the API stores files only for a dossier it files -----------------------------------------


def test_a_refused_api_filing_leaves_no_file(app, client):
    bad_answers = {**ANSWERS, "requester": {**ANSWERS["requester"], "phone": "12"}}
    response = client.post(API, json=body(answers=bad_answers))
    assert response.status_code == 422
    assert any(e["pointer"] == "/answers/requester/phone" for e in response.get_json()["errors"])
    assert file_ids(app) == set()

    # a good file next to a bad one: neither is kept
    exe = base64.b64encode(b"MZ\x90\x00" + b"\x00" * 64).decode()
    two = [{"component": "giay_chung_sinh", "filename": "cs.pdf", "content_base64": pdf_b64("mot")},
           {"component": "giay_chung_sinh", "filename": "x.exe", "content_base64": exe}]
    response = client.post(API, json=body(attachments=two))
    assert response.status_code == 422
    assert file_ids(app) == set()

    # a bad delivery is also found before anything is stored
    response = client.post(API, json=body(delivery={"kind": "postal"}))
    assert response.status_code == 422
    assert file_ids(app) == set()

    # the same request, valid, stores exactly its one file
    response = client.post(API, json=body())
    assert response.status_code == 201
    dossier = store_of(app).dossiers.get(response.get_json()["code"])
    assert file_ids(app) == {dossier.attachments[0].file_id}


def test_a_filing_that_fails_after_storing_takes_its_files_back(app, client):
    app.config["PROPAGATE_EXCEPTIONS"] = False  # the citizen's JSON 500, as in production
    first = client.post(API, json=body())
    assert first.status_code == 201
    code = first.get_json()["code"]
    kept = store_of(app).dossiers.get(code).attachments[0].file_id
    # The day's counter goes back (as after restoring an old sequences file): the next code
    # is one already taken, so storing the dossier fails after its file was stored.
    agency, day, _n = code.rsplit("-", 2)
    store_of(app).records("sequences").put(f"{agency}-{day}", {"n": 0})
    other = [{"component": "giay_chung_sinh", "filename": "cs.pdf", "content_base64": pdf_b64("hai")}]
    response = client.post(API, json=body(attachments=other))
    assert response.status_code == 500
    assert file_ids(app) == {kept}  # the new file is gone, the first dossier's stays
    assert store_of(app).dossiers.count() == 1


def test_a_failed_filing_never_takes_a_file_someone_else_holds(app, client):
    app.config["PROPAGATE_EXCEPTIONS"] = False
    first = client.post(API, json=body())
    code = first.get_json()["code"]
    kept = store_of(app).dossiers.get(code).attachments[0].file_id
    agency, day, _n = code.rsplit("-", 2)
    store_of(app).records("sequences").put(f"{agency}-{day}", {"n": 0})
    # the very same bytes as the first dossier's file: already there, so not this request's
    response = client.post(API, json=body())
    assert response.status_code == 500
    assert file_ids(app) == {kept}
    assert store_of(app).files.read(kept)


def test_a_refused_supplement_leaves_no_file(app, client):
    from tests.test_portal_supplement import PHONE, asked
    from tests.test_portal_tracking import lookup

    code = asked(app)
    before = file_ids(app)
    assert lookup(client, code, PHONE).status_code == 302
    page = client.get(f"/ho-so/{code}").get_data(as_text=True)
    response = client.post(f"/ho-so/{code}/bo-sung", data={
        "csrf_token": csrf(page),
        "note": "x" * 2001,  # too long: refused with the file
        "attachment.giay_chung_sinh": (io.BytesIO(small_pdf("bo sung")), "giay-chung-sinh.pdf"),
    }, content_type="multipart/form-data")
    assert response.status_code == 400
    assert file_ids(app) == before


# --- files: delete ----------------------------------------------------------------------------


def test_file_delete_and_a_file_stored_again_is_kept(tmp_path):
    store = open_store(tmp_path / "data")
    file_id = store.files.put(b"%PDF-1.4 mot")
    assert store.files.delete(file_id) is True
    assert not store.files.exists(file_id) and store.files.stored_at(file_id) is None
    assert store.files.delete(file_id) is False  # already gone
    assert store.files.delete("../../etc/passwd") is False  # never a path

    file_id = store.files.put(b"%PDF-1.4 hai")
    cutoff = datetime.now(timezone.utc) + timedelta(seconds=1)
    old = (datetime.now(timezone.utc) - timedelta(days=3)).timestamp()
    path = tmp_path / "data" / "files" / file_id[:2] / file_id
    os.utime(path, (old, old))
    store.files.put(b"%PDF-1.4 hai")  # uploaded again: now counts as fresh
    assert store.files.delete(file_id, older_than=cutoff - timedelta(seconds=2)) is False
    assert store.files.read(file_id) == b"%PDF-1.4 hai"
    assert store.files.delete(file_id, older_than=cutoff) is True
    assert list(store.files.ids()) == []


# --- drafts expire ----------------------------------------------------------------------------


def make_draft(app, days_old: float, attachment: bytes | None = None) -> tuple[str, str | None]:
    """A real draft of the birth registration, last saved `days_old` days ago."""
    spec = app.extensions["motcua"].catalogue.get(BIRTH_CODE)
    records = store_of(app).records("drafts")
    token, draft = drafts.new(records, spec)
    draft["values"] = {"requester": {"full_name": "Nguyễn Văn An"}}
    file_id = None
    if attachment is not None:
        file_id = store_of(app).files.put(attachment)
        draft["attachments"] = {"giay_chung_sinh": {
            "component": "giay_chung_sinh", "file_id": file_id, "filename": "cs.pdf",
            "content_type": "application/pdf", "size": len(attachment), "sha256": file_id}}
    draft["updated"] = (datetime.now(timezone.utc) - timedelta(days=days_old)).isoformat()
    records.put(token, draft)
    return token, file_id


def test_an_expired_draft_link_shows_the_expiry_page(app, client):
    token, _ = make_draft(app, days_old=31)
    saved = datetime.fromisoformat(store_of(app).records("drafts").get(token)["updated"])
    day = (saved + timedelta(days=30)).astimezone(VN_TZ).strftime("%d/%m/%Y")
    for url in (f"/thu-tuc/{BIRTH_CODE}/nop/{token}", f"/thu-tuc/{BIRTH_CODE}/nop/{token}/da-luu",
                f"/thu-tuc/{BIRTH_CODE}/nop/{token}/requester"):
        response = client.get(url)
        assert response.status_code == 410, url
        page = response.get_data(as_text=True)
        assert "Hồ sơ đang soạn đã hết hạn lưu" in page and day in page
        assert "Nguyễn Văn An" not in page  # not the old form, not a blank one either
        assert 'name="requester.full_name"' not in page
    english = client.get(f"/thu-tuc/{BIRTH_CODE}/nop/{token}?lang=en").get_data(as_text=True)
    assert "This draft has expired" in english and format_date(saved + timedelta(days=30), "en") in english

    # a post to a step of the expired draft is refused, and nothing is saved
    page = client.get(f"/thu-tuc/{BIRTH_CODE}/nop").get_data(as_text=True)
    response = client.post(f"/thu-tuc/{BIRTH_CODE}/nop/{token}/requester",
                           data={"csrf_token": csrf(page), "requester.full_name": "Khác"})
    assert response.status_code == 410
    assert store_of(app).records("drafts").get(token)["values"]["requester"]["full_name"] == "Nguyễn Văn An"

    # a draft without a readable save time cannot be given a lifetime: expired, said plainly
    records = store_of(app).records("drafts")
    broken = {**records.get(token), "updated": "hôm qua"}
    records.put(token, broken)
    response = client.get(f"/thu-tuc/{BIRTH_CODE}/nop/{token}?lang=vi")
    assert response.status_code == 410
    assert "đã quá thời hạn lưu (30 ngày" in response.get_data(as_text=True)

    # a link that never existed is still "not found", not "expired"
    assert client.get(f"/thu-tuc/{BIRTH_CODE}/nop/khong-co-that").status_code == 404


def test_draft_lifetime_is_configurable_and_shown_on_the_private_link_page(tmp_path):
    from motcua.app import create_app
    from tests.conftest import SPECS

    app = create_app({"DATA_DIR": str(tmp_path / "data"), "SPECS_DIR": str(SPECS), "TESTING": True, "DRAFT_DAYS": 2})
    client = app.test_client()
    fresh, _ = make_draft(app, days_old=1)
    stale, _ = make_draft(app, days_old=3)  # within 30 days, but past 2
    saved = datetime.fromisoformat(store_of(app).records("drafts").get(fresh)["updated"])
    page = client.get(f"/thu-tuc/{BIRTH_CODE}/nop/{fresh}/da-luu")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    until = (saved + timedelta(days=2)).astimezone(VN_TZ).strftime("%d/%m/%Y")
    assert re.search(r"được lưu đến hết ngày \d\d/\d\d/\d{4}", text)
    assert f"đến hết ngày {until} (2 ngày kể từ lần lưu gần nhất)" in text
    assert client.get(f"/thu-tuc/{BIRTH_CODE}/nop/{stale}").status_code == 410
    english = client.get(f"/thu-tuc/{BIRTH_CODE}/nop/{fresh}/da-luu?lang=en").get_data(as_text=True)
    assert f"kept until the end of {format_date(saved + timedelta(days=2), 'en')} (2 days" in english


def test_saving_a_draft_purged_meanwhile_does_not_bring_it_back(app):
    token, _ = make_draft(app, days_old=0)
    records = store_of(app).records("drafts")
    stale = records.get(token)
    records.delete(token)  # what purge does
    with pytest.raises(drafts.DraftExpired):
        drafts.save(records, token, stale)
    assert records.get(token) is None


# --- motcua purge -----------------------------------------------------------------------------


def test_purge_dry_run_then_real_run_removes_exactly_the_leftovers(app, client):
    store = store_of(app)
    filed = client.post(API, json=body())
    assert filed.status_code == 201
    dossier_file = store.dossiers.get(filed.get_json()["code"]).attachments[0].file_id
    age(app, dossier_file, 90)  # old, unreferenced by any draft: still a dossier's
    expired, expired_file = make_draft(app, days_old=40, attachment=small_pdf("het han"))
    age(app, expired_file, 40)
    live, live_file = make_draft(app, days_old=2, attachment=small_pdf("dang soan"))
    age(app, live_file, 5)
    orphan = store.files.put(small_pdf("bo roi"))  # e.g. a replaced attachment
    age(app, orphan, 3)
    fresh = store.files.put(small_pdf("dang tai len"))  # an upload in progress
    everything = {dossier_file, expired_file, live_file, orphan, fresh}
    assert file_ids(app) == everything
    data = app.config["DATA_DIR"]

    runner = CliRunner()
    dry = runner.invoke(main, ["purge", "--data", data, "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert f"would remove draft {expired[:8]}" in dry.output and live[:8] not in dry.output
    assert expired not in dry.output  # the full token is the draft's key: never printed
    assert f"would remove file {expired_file}" in dry.output and f"would remove file {orphan}" in dry.output
    assert dossier_file not in dry.output and fresh not in dry.output and live_file not in dry.output
    assert "Dry run: 1 expired drafts and 2 unreferenced files would remove" in dry.output
    assert file_ids(app) == everything  # nothing touched
    assert store.records("drafts").get(expired) is not None

    real = runner.invoke(main, ["purge", "--data", data])
    assert real.exit_code == 0, real.output
    assert "1 expired drafts and 2 unreferenced files removed" in real.output
    assert "kept 2 files in use and 1 recent uploads" in real.output
    assert file_ids(app) == {dossier_file, live_file, fresh}
    assert store.records("drafts").get(expired) is None
    assert store.records("drafts").get(live) is not None
    assert store.files.read(dossier_file)
    # the dossier's file stays readable by staff, the live draft still opens
    assert client.get(f"/thu-tuc/{BIRTH_CODE}/nop/{live}").status_code == 302

    again = runner.invoke(main, ["purge", "--data", data])
    assert "0 expired drafts and 0 unreferenced files removed" in again.output


def test_purge_keeps_files_named_by_a_supplement_event_and_honours_draft_days(app, client):
    from motcua.purge import purge

    store = store_of(app)
    code = client.post(API, json=body()).get_json()["code"]
    supplied = store.files.put(small_pdf("bo sung"))
    age(app, supplied, 10)
    store.dossiers.update(code, lambda d: d.record(Event(actor="citizen", kind="supplemented",
                                                          data={"attachments": [supplied]})))
    three_days, _ = make_draft(app, days_old=3)
    report = purge(store, draft_keep=timedelta(days=7))
    assert report.orphan_files == [] and report.expired_drafts == []
    report = purge(store, draft_keep=timedelta(days=2))
    assert [d.token for d in report.expired_drafts] == [three_days]
    assert store.files.exists(supplied)

    bad = CliRunner().invoke(main, ["purge", "--data", app.config["DATA_DIR"], "--draft-days", "0"])
    assert bad.exit_code != 0 and "DRAFT_DAYS must be at least 1" in bad.output


# --- events are append-only -------------------------------------------------------------------


def chunk_bytes(app) -> dict[str, bytes]:
    root = app.config["DATA_DIR"] + "/dossiers"
    out = {}
    for folder, _dirs, names in os.walk(root):
        for name in names:
            if name.endswith(".json") and "index" not in folder:
                out[os.path.join(folder, name)] = open(os.path.join(folder, name), "rb").read()
    return out


def test_an_update_rewriting_or_dropping_an_event_is_refused(app, client):
    store = store_of(app)
    code = client.post(API, json=body()).get_json()["code"]
    before = store.dossiers.get(code)
    assert before.events
    on_disk = chunk_bytes(app)

    def rewrite(d):
        d.events[0].note = "sửa lại lịch sử"
        d.record(Event(actor="staff:x", kind="note"))

    def drop(d):
        del d.events[0]

    def reorder(d):
        d.record(Event(actor="staff:x", kind="note"))
        d.events.reverse()

    def replace_list(d):
        d.events = [Event(actor="staff:x", kind="filed", status=d.status)] + d.events[1:]

    for change in (rewrite, drop, reorder, replace_list):
        with pytest.raises(EventsRewritten) as refused:
            store.dossiers.update(code, change)
        assert isinstance(refused.value, StoreError)
        assert "only append events" in str(refused.value)
        assert store.dossiers.get(code) == before
        assert chunk_bytes(app) == on_disk  # nothing written at all

    # appending, and changing what is not an event, still works
    saved, _ = store.dossiers.update(code, lambda d: d.record(Event(actor="staff:x", kind="note", note="ok")))
    assert saved.events[:-1] == before.events and saved.events[-1].note == "ok"
    assert store.dossiers.get(code).events[-1].note == "ok"
