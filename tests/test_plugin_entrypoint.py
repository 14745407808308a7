"""A third-party step package, installed into the running environment, used by a spec in
tmp with no change to this repository; and a step that raises is recorded and retried."""

from __future__ import annotations

import importlib
import shutil
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

from fixtures.workflow_kit import DESK, LEADER, SPECIALIST, file_dossier, kinds, make_spec, propose
from motcua.app import create_app
from motcua.dossier import Status
from motcua.workflow import ActionNotAllowed
from motcua.workflow.registry import reload, step_registry

PACKAGE = Path(__file__).parent / "fixtures" / "motcua-sample-step"


@pytest.fixture(scope="session")
def sample_step_installed(tmp_path_factory):
    """Install the package as pip would for a pure-Python wheel: the package plus a .dist-info
    with its entry points, in a folder on sys.path (fast, offline, removed afterwards)."""
    site = tmp_path_factory.mktemp("site-packages")
    project = tomllib.loads((PACKAGE / "pyproject.toml").read_text())["project"]
    shutil.copytree(PACKAGE / "motcua_sample_step", site / "motcua_sample_step")
    info = site / f"{project['name'].replace('-', '_')}-{project['version']}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {project['name']}\nVersion: {project['version']}\n")
    groups = project["entry-points"]
    (info / "entry_points.txt").write_text("".join(
        f"[{group}]\n" + "".join(f"{name} = {target}\n" for name, target in eps.items()) for group, eps in groups.items()))
    sys.path.insert(0, str(site))
    importlib.invalidate_caches()
    reload()
    yield site
    sys.path.remove(str(site))
    sys.modules.pop("motcua_sample_step", None)
    importlib.invalidate_caches()
    reload()


def test_registry_finds_built_ins() -> None:
    assert {"payment", "review", "postal", "notify"} <= set(step_registry())
    assert step_registry()["payment"].Config.model_validate({"mode": "desk"}).mode == "desk"


def test_third_party_step_from_a_spec_in_tmp(sample_step_installed, tmp_path) -> None:
    assert "sample_checklist" in step_registry()
    spec = make_spec([{"name": "payment", "config": {"mode": "online"}},
                      {"name": "sample_checklist", "config": {"items": ["Giấy chứng sinh", "CCCD"]}}, "review", "postal", "notify"])
    specs = tmp_path / "specs"
    specs.mkdir()
    (specs / "spec.yaml").write_text(yaml.safe_dump(spec.model_dump(mode="json", by_alias=True, exclude_none=True), allow_unicode=True), encoding="utf-8")
    app = create_app({"DATA_DIR": str(tmp_path / "data"), "SPECS_DIR": str(specs), "TESTING": True})
    try:
        engine = app.extensions["motcua"].engine
        store = app.extensions["motcua"].store
        assert app.extensions["motcua"].catalogue.get(spec.code) is not None
        code = file_dossier(app, app.extensions["motcua"].catalogue.get(spec.code), fee=0)
        d = store.dossiers.get(code)
        assert "checklist_opened" in kinds(d)
        assert [a.name for a in engine.actions(d, SPECIALIST) if a.step] == ["confirm_checklist"]
        with app.test_request_context():
            assert "Danh mục kiểm tra" in "".join(engine.staff_panels(d))
        with pytest.raises(ActionNotAllowed, match="Chưa kiểm tra: CCCD"):
            engine.perform(code, "confirm_checklist", SPECIALIST, checked="Giấy chứng sinh")
        d = engine.perform(code, "confirm_checklist", SPECIALIST, checked="Giấy chứng sinh\nCCCD")
        assert d.steps["_engine"]["cursor"] == 2 and d.steps["sample_checklist"]["checked"] == ["Giấy chứng sinh", "CCCD"]
        engine.perform(code, "receive", DESK)
        engine.perform(code, "process", DESK)
        propose(engine, code)
        d = engine.perform(code, "approve", LEADER)
        assert d.steps["_engine"]["cursor"] == 5 and d.status == Status.FINISHED  # desk delivery: postal has nothing to do
    finally:
        app.extensions["motcua"].store.close()


def test_step_that_raises_is_recorded_and_retried(sample_step_installed, app) -> None:
    from motcua_sample_step import FlakyStep

    engine = app.extensions["motcua"].engine
    store = app.extensions["motcua"].store
    FlakyStep.failures_left = 2
    code = file_dossier(app, make_spec(["sample_flaky", "review"]), fee=0)
    d = store.dossiers.get(code)
    failed = [e for e in d.events if e.kind == "step_failed"]
    assert len(failed) == 1 and failed[0].data["error"] == "ConnectionError: upstream register timed out"
    assert d.status == Status.NEW and store.records("workflow_retries").get(code)
    with app.test_request_context():
        assert "upstream register timed out" in "".join(engine.staff_panels(d))
    assert engine.retry_failed() == 0
    # the next change of the dossier retries first, then does what was asked
    d = engine.perform(code, "receive", DESK)
    assert "flaky_done" in kinds(d) and "step_recovered" in kinds(d) and d.status == Status.RECEIVED
    assert d.steps["_engine"]["failures"] == [] and store.records("workflow_retries").get(code) is None


def test_unknown_step_is_recorded_not_lost(app) -> None:
    code = file_dossier(app, make_spec(["no_such_step", "review"]), fee=0)
    d = app.extensions["motcua"].store.dossiers.get(code)
    assert d.events[-1].kind == "step_failed" and "chưa được cài đặt" in d.events[-1].data["error"]
    assert d.status == Status.NEW


def test_declared_labels_internal_events_and_notes_in_the_readers_language(sample_step_installed, app) -> None:
    """The plugin's own words on every timeline, its staff-only event only where staff look,
    and the clerk who confirmed credited without the step saying so."""
    from motcua.accounts import create_account
    from tests.test_backoffice import PASSWORD, login
    from tests.test_portal_tracking import lookup

    store = app.extensions["motcua"].store
    specialist = create_account(store, "binh", "Trần Thị Bình", ["specialist"], ["000.06.50.H15"], PASSWORD)
    spec = make_spec([{"name": "sample_checklist", "config": {"items": ["Giấy chứng sinh", "CCCD"]}}, "review"])
    code = file_dossier(app, spec, fee=0)
    app.extensions["motcua"].engine.perform(code, "confirm_checklist", specialist, checked="Giấy chứng sinh\nCCCD")
    assert next(e for e in store.dossiers.get(code).events if e.kind == "checklist_confirmed").actor == "staff:binh"

    citizen = app.test_client()
    assert lookup(citizen, code, "0912345678").status_code == 302
    vi = citizen.get(f"/ho-so/{code}").get_data(as_text=True)
    assert "Mở danh mục kiểm tra" in vi and "2 mục cần kiểm tra." in vi and "Xác nhận danh mục kiểm tra" in vi
    assert "Checklist opened" not in vi and "Checklist opened".lower() not in vi.lower()
    assert "Giao kiểm tra danh mục" not in vi and "đối chiếu bản gốc" not in vi  # internal: staff only
    en = citizen.get(f"/ho-so/{code}?lang=en").get_data(as_text=True)
    assert "Checklist opened" in en and "2 items to check." in en and "Checklist confirmed" in en
    assert "Mở danh mục kiểm tra" not in en and "Checklist assigned" not in en and "đối chiếu bản gốc" not in en

    factor = {"X-Motcua-Factor": "0912345678"}
    timeline = citizen.get(f"/api/v1/dossiers/{code}?lang=en", headers=factor).get_json()["timeline"]
    opened = next(t for t in timeline if t["kind"] == "checklist_opened")
    assert opened["label"] == "Checklist opened" and opened["note"] == "2 items to check."
    assert "checklist_assigned" not in [t["kind"] for t in timeline]
    timeline = citizen.get(f"/api/v1/dossiers/{code}?lang=vi", headers=factor).get_json()["timeline"]
    assert next(t for t in timeline if t["kind"] == "checklist_opened")["label"] == "Mở danh mục kiểm tra"

    staff_client = app.test_client()
    assert login(staff_client, "binh").status_code == 302
    page = staff_client.get(f"/staff/ho-so/{code}").get_data(as_text=True)
    assert "Giao kiểm tra danh mục" in page and "Chuyên viên kiểm tra đối chiếu bản gốc: Giấy chứng sinh; CCCD" in page
    assert "Mở danh mục kiểm tra" in page and "2 mục cần kiểm tra." in page
    row = next(r for r in page.split("<tr") if "Xác nhận danh mục kiểm tra" in r)
    assert "Trần Thị Bình" in row and "bước" not in row
    row = next(r for r in page.split("<tr") if "Mở danh mục kiểm tra" in r)  # recorded by the step itself
    assert "Hệ thống – Kiểm tra danh mục giấy tờ" in row
    page = staff_client.get(f"/staff/ho-so/{code}?lang=en").get_data(as_text=True)
    row = next(r for r in page.split("<tr") if "Checklist opened" in r)
    assert "System – Document checklist" in row and "Kiểm tra danh mục" not in row


def test_a_step_is_credited_by_its_title_or_else_by_its_name(sample_step_installed, app) -> None:
    from flask import g

    from motcua.web.labels import actor_label

    expected = {
        "vi": {"step:sample_checklist": "Hệ thống – Kiểm tra danh mục giấy tờ", "step:payment": "Hệ thống – Thanh toán phí, lệ phí",
               "step:postal": "Hệ thống – Bưu chính công ích", "step:notify": "Hệ thống – Thông báo",
               "step:review": "Hệ thống – Xem xét hồ sơ", "step:sample_flaky": "Hệ thống – bước sample_flaky",
               "step:uninstalled": "Hệ thống – bước uninstalled", "gateway:vnpay": "Cổng thanh toán VNPay"},
        "en": {"step:sample_checklist": "System – Document checklist", "step:payment": "System – Fee payment",
               "step:postal": "System – Public postal service", "step:notify": "System – Notifications",
               "step:review": "System – Dossier review", "step:sample_flaky": "System – sample_flaky step",
               "step:uninstalled": "System – uninstalled step", "gateway:vnpay": "VNPay payment gateway"},
    }
    for lang, labels in expected.items():
        with app.test_request_context():
            g.lang = lang
            assert {actor: actor_label(actor) for actor in labels} == labels


def test_a_kind_declared_as_a_dict_and_a_kind_nobody_declares(sample_step_installed) -> None:
    from motcua.dossier import Event
    from motcua.web import labels

    assert labels.event_label("flaky_done", lang="vi") == "Đã tra cứu sổ đăng ký"
    assert labels.event_label("flaky_done", lang="en") == "Register checked"
    gone = Event(actor="step:uninstalled", kind="phone_check_opened", note="Gọi lại số 0912345678 sau 17h")
    assert labels.event_label(gone.kind, lang="vi") == "Cập nhật hồ sơ"
    assert labels.event_label(gone.kind, lang="en") == "Dossier updated"
    assert labels.citizen_events([gone]) == [gone]  # shown, with a generic label ...
    assert labels.event_note(gone, "vi", citizen=True) == ""  # ... but not its note: nobody knows if it was staff-only
    assert labels.event_note(gone, "en") == "Gọi lại số 0912345678 sau 17h"  # staff see it as typed


def test_a_dead_step_retry_is_run_again_by_an_admin(sample_step_installed, app) -> None:
    """The `retry_steps` job gives up while the step still fails; once the cause is fixed an
    administrator runs it again (motcua.jobs.rerun_dead) and the step recovers."""
    import time

    from motcua.jobs import dead_jobs, rerun_dead
    from motcua_sample_step import FlakyStep

    app.config.update(WORKFLOW_RETRY_ATTEMPTS=2, WORKFLOW_RETRY_SECONDS=0.05)
    engine = app.extensions["motcua"].engine
    store = app.extensions["motcua"].store
    FlakyStep.failures_left = 100  # down for good
    code = file_dossier(app, make_spec(["sample_flaky", "review"]), fee=0)
    for _ in range(3):
        engine.flush()
        time.sleep(0.2)
    [dead] = dead_jobs(store)
    assert dead["task"] == "retry_steps" and dead["args"] == {"code": code}
    assert "flaky_done" not in kinds(store.dossiers.get(code))
    FlakyStep.failures_left = 0  # the register is back
    rerun_dead(app, dead["id"], "staff:quantri")
    assert dead_jobs(store) == []
    engine.flush()
    d = store.dossiers.get(code)
    assert "flaky_done" in kinds(d) and "step_recovered" in kinds(d)
    [rerun] = [e for e in d.events if e.kind == "job_rerun"]
    assert rerun.actor == "staff:quantri" and rerun.data == {"task": "retry_steps"}
