"""Processing as the one-stop rules describe it, worked through the real staff pages: a
specialist records an opinion and a draft (text and/or PDF) and proposes; the leader
approves, refuses or returns it for rework; every action by the wrong role or out of order
says why and changes nothing; each hand-over is a line of the control sheet (form 05).

Real app, real store folder (and PostgreSQL where parametrised), the shipped birth
registration spec, and a copy of it declaring two stages, one of another agency (liên thông).
"""

from __future__ import annotations

import html
import io
import shutil
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from conftest import BACKENDS

from motcua import accounts, processing
from motcua.app import create_app
from motcua.dossier import Contact, Dossier, Event, Status

from portal_helpers import dump_yaml, read_yaml, small_pdf
from test_backoffice import AGENCY_A, BIRTH_SPEC, PASSWORD, csrf_of, file_online, logged_in, office, two_agency_specs  # noqa: F401

AGENCY_C = "000.00.40.H12"  # the commune police: a liên thông stage's agency


def svc(app):
    return app.extensions["motcua"]


@pytest.fixture
def staffed(office):
    """The office of test_backoffice (lan: desk, minh: specialist) plus a leader and a second specialist."""
    store = svc(office).store
    accounts.create_account(store, "hung", "Phạm Văn Hùng", ["leader"], [AGENCY_A], PASSWORD)
    accounts.create_account(store, "thu", "Đỗ Thị Thu", ["specialist"], [AGENCY_A], PASSWORD)
    return office


@pytest.fixture
def chain_app(tmp_path: Path, store_target: str):
    """The birth spec declaring two stages (the second of another agency) and its leader."""
    folder = tmp_path / "chain-specs" / "ho-tich"
    folder.mkdir(parents=True)
    data = read_yaml(BIRTH_SPEC)
    data["version"] = "chain.1"
    data["info"]["processing_time"].update(working_days=5, max_working_days=5)  # verification: 5 working days
    data["processing"] = {
        "stages": [
            {"unit": "Công chức Tư pháp – Hộ tịch", "days": 1},
            {"unit": "Công an xã", "agency": AGENCY_C, "days": 1,
             "title": {"vi": "Xác minh cư trú", "en": "Check the residence"}},
        ],
        "approval": {"unit": "Chủ tịch UBND xã", "days": 1},
    }
    (folder / "khai-sinh.yaml").write_text(dump_yaml(data, sort_keys=True), encoding="utf-8")
    app = create_app({"DATA_DIR": str(tmp_path / "data"), "SPECS_DIR": str(folder.parent), "TESTING": True, "STORE": store_target})
    assert app.extensions["motcua"].catalogue.problems == []
    store = svc(app).store
    accounts.create_account(store, "lan", "Nguyễn Thị Lan", ["desk"], [AGENCY_A], PASSWORD)
    accounts.create_account(store, "minh", "Trần Văn Minh", ["specialist"], [AGENCY_A], PASSWORD)
    accounts.create_account(store, "cong", "Vũ Văn Công", ["specialist"], [AGENCY_A, AGENCY_C], PASSWORD)
    accounts.create_account(store, "hung", "Phạm Văn Hùng", ["leader"], [AGENCY_A], PASSWORD)
    accounts.create_account(store, "tuan", "Lý Văn Tuấn", ["specialist", "leader"], [AGENCY_C], PASSWORD)  # the police only
    yield app
    store.close()


def act(client, code: str, action: str, **fields):
    """Post an action as the dossier page's form does; returns the page shown after it."""
    page = client.get(f"/staff/ho-so/{code}").get_data(as_text=True)
    data = {"csrf_token": csrf_of(page), "action": action, **fields}
    response = client.post(f"/staff/ho-so/{code}/xu-ly", data=data, content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)
    return html.unescape(client.get(response.location).get_data(as_text=True))


def in_processing(app, **kw) -> str:
    """An online dossier received and sent for processing by the desk officer `lan`."""
    code = file_online(app, **kw).code
    desk = logged_in(app, "lan")
    act(desk, code, "receive")
    act(desk, code, "process")
    assert svc(app).store.dossiers.get(code).status == Status.PROCESSING
    return code


def pdf_upload(text: str = "Du thao trich luc khai sinh"):
    return (io.BytesIO(small_pdf(text)), "du-thao.pdf")


# --- the whole loop ---------------------------------------------------------------------------


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
def test_opinion_rework_second_opinion_approval(staffed):
    store = svc(staffed).store
    code = in_processing(staffed)
    specialist, leader = logged_in(staffed, "minh"), logged_in(staffed, "hung")

    page = act(specialist, code, "propose", opinion="Hồ sơ đủ điều kiện đăng ký.", proposal="approve",
               draft_text="Trích lục khai sinh cho cháu Nguyễn Văn Bình.", draft_file=pdf_upload())
    assert "Đã thực hiện: Trình ý kiến và dự thảo kết quả." in page
    first = store.dossiers.get(code).events[-1]
    assert first.kind == "proposed" and first.actor == "staff:minh"
    assert first.data["final"] and first.data["draft_file"]["filename"] == "du-thao.pdf"
    assert first.data["attachments"] == [first.data["draft_file"]["file_id"]]  # kept by purge
    # the draft is downloadable by the agency's staff
    download = leader.get(f"/staff/ho-so/{code}/du-thao/{first.data['draft_file']['file_id']}")
    assert download.status_code == 200 and download.data.startswith(b"%PDF")
    assert "Hồ sơ đủ điều kiện đăng ký." in html.unescape(leader.get(f"/staff/ho-so/{code}").get_data(as_text=True))

    page = act(leader, code, "rework", reason="Ghi rõ quê quán của cháu trong dự thảo.")
    assert "Đã thực hiện: Trả lại để xử lý lại." in page
    assert store.dossiers.get(code).status == Status.PROCESSING

    # the same opinion and draft again: refused, nothing recorded
    before = len(store.dossiers.get(code).events)
    page = act(specialist, code, "propose", opinion="Hồ sơ đủ điều kiện đăng ký.", proposal="approve",
               draft_text="Trích lục khai sinh cho cháu Nguyễn Văn Bình.", draft_file=pdf_upload())
    assert "không thay đổi so với lần trình trước" in page
    assert len(store.dossiers.get(code).events) == before
    # the leader cannot decide on nothing meanwhile
    page = act(leader, code, "approve")
    assert "Chuyên viên chưa trình ý kiến" in page and store.dossiers.get(code).status == Status.PROCESSING

    act(specialist, code, "propose", opinion="Đã bổ sung quê quán.", proposal="approve",
        draft_text="Trích lục khai sinh cho cháu Nguyễn Văn Bình, quê quán Hải Phòng.")
    second = store.dossiers.get(code).events[-1]
    assert second.kind == "proposed" and second.data["round"] == 1
    page = act(leader, code, "approve")
    assert "Đã thực hiện: Phê duyệt kết quả." in page
    dossier = store.dossiers.get(code)
    assert dossier.status == Status.FINISHED
    decided = dossier.events[-1]
    assert decided.data["decision"] == "approved" and decided.data["proposal_round"] == 1

    lines = processing.control_sheet_lines(dossier)
    assert [(l.kind, l.sender, l.receiver) for l in lines] == [
        ("received", "Nguyễn Văn An", processing.DESK_UNIT),
        ("processing_started", processing.DESK_UNIT, processing.DEFAULT_PROCESSING_UNIT),
        ("proposed", processing.DEFAULT_PROCESSING_UNIT, processing.DEFAULT_APPROVAL_UNIT),
        ("returned_for_rework", processing.DEFAULT_APPROVAL_UNIT, processing.DEFAULT_PROCESSING_UNIT),
        ("proposed", processing.DEFAULT_PROCESSING_UNIT, processing.DEFAULT_APPROVAL_UNIT),
        ("decided", processing.DEFAULT_APPROVAL_UNIT, processing.DESK_UNIT),
    ]
    assert all(l.on_time for l in lines)  # the due date is weeks away
    assert lines[2].what["vi"] == "Hồ sơ, ý kiến và dự thảo kết quả"
    sheet = html.unescape(leader.get(f"/staff/ho-so/{code}").get_data(as_text=True))
    sheet = sheet[sheet.index("panel-control-sheet"):].split("</section>")[0]
    assert "Lãnh đạo trả lại để xử lý lại" in sheet and "Đúng hạn" in sheet and "Trần Văn Minh" in sheet


def test_the_citizen_sees_the_decision_not_the_opinions(staffed):
    code = in_processing(staffed)
    act(logged_in(staffed, "minh"), code, "propose", opinion="Ý kiến nội bộ XYZ.", proposal="approve", draft_text="Dự thảo nội bộ.")
    act(logged_in(staffed, "hung"), code, "rework", reason="Ghi chú nội bộ của lãnh đạo.")
    from motcua.web.portal import private_tracking_url

    with staffed.test_request_context():
        url = private_tracking_url(code)
    page = html.unescape(staffed.test_client().get(url.replace("http://localhost", "")).get_data(as_text=True))
    assert code in page
    assert "Ý kiến nội bộ XYZ." not in page and "Ghi chú nội bộ của lãnh đạo." not in page
    assert "Trình ý kiến xử lý" not in page


# --- each action: wrong role, out of order, bad values: a clear message and nothing done ---------


def _unchanged(app, code: str, before: Dossier) -> None:
    assert svc(app).store.dossiers.get(code) == before


@pytest.mark.parametrize("action, who, values, message", [
    ("propose", "hung", {"opinion": "x", "proposal": "approve", "draft_text": "y"}, "dành cho: Chuyên viên xử lý"),
    ("propose", "lan", {"opinion": "x", "proposal": "approve", "draft_text": "y"}, "dành cho: Chuyên viên xử lý"),
    ("rework", "minh", {"reason": "x"}, "dành cho: Lãnh đạo"),
    ("approve", "minh", {}, "dành cho: Lãnh đạo"),
    ("reject", "lan", {"reason": "x"}, "dành cho: Lãnh đạo"),
])
def test_wrong_role_is_refused_and_changes_nothing(staffed, action, who, values, message):
    code = in_processing(staffed)
    if action != "propose":
        act(logged_in(staffed, "thu"), code, "propose", opinion="Đủ điều kiện.", proposal="approve", draft_text="Dự thảo.")
    before = svc(staffed).store.dossiers.get(code)
    page = act(logged_in(staffed, who), code, action, **values)
    assert message in page
    _unchanged(staffed, code, before)


@pytest.mark.parametrize("action, who, values, message", [
    ("rework", "hung", {"reason": "x"}, "Chuyên viên chưa trình ý kiến"),
    ("approve", "hung", {}, "Chuyên viên chưa trình ý kiến"),
    ("reject", "hung", {"reason": "x"}, "Chuyên viên chưa trình ý kiến"),
])
def test_the_leader_cannot_decide_before_a_proposal(staffed, action, who, values, message):
    code = in_processing(staffed)
    before = svc(staffed).store.dossiers.get(code)
    page = act(logged_in(staffed, who), code, action, **values)
    assert message in page
    _unchanged(staffed, code, before)


def test_propose_out_of_order(staffed):
    store = svc(staffed).store
    code = file_online(staffed).code
    specialist = logged_in(staffed, "minh")
    values = {"opinion": "Đủ điều kiện.", "proposal": "approve", "draft_text": "Dự thảo."}
    before = store.dossiers.get(code)
    assert "nên không thể trình ý kiến và dự thảo kết quả" in act(specialist, code, "propose", **values)  # not received
    _unchanged(staffed, code, before)
    code = in_processing(staffed)
    act(specialist, code, "propose", **values)
    before = store.dossiers.get(code)
    assert "đang chờ lãnh đạo xem xét dự thảo" in act(specialist, code, "propose", **values)  # twice in a row
    _unchanged(staffed, code, before)
    act(logged_in(staffed, "hung"), code, "approve")
    before = store.dossiers.get(code)
    assert "nên không thể trình ý kiến" in act(specialist, code, "propose", **values)  # decided
    assert "nên không thể trả lại để xử lý lại" in act(logged_in(staffed, "hung"), code, "rework", reason="x")
    _unchanged(staffed, code, before)


@pytest.mark.parametrize("values, message", [
    ({"opinion": "", "proposal": "approve", "draft_text": "y"}, "Cần nhập “Ý kiến xử lý”."),
    ({"opinion": "x", "proposal": "maybe", "draft_text": "y"}, "Chọn đề xuất: phê duyệt hoặc từ chối giải quyết."),
    ({"opinion": "x", "proposal": "refuse"}, "Đề xuất từ chối giải quyết cần nêu rõ lý do."),
    ({"opinion": "x", "proposal": "approve"}, "Cần dự thảo kết quả (nội dung hoặc tệp PDF)"),
    ({"opinion": "x", "proposal": "approve", "draft_file": (io.BytesIO(b"GIF89a not a pdf"), "anh.pdf")},
     "Tệp Dự thảo kết quả không đúng loại cho phép"),
])
def test_bad_opinions_are_refused_with_what_to_fix(staffed, values, message):
    code = in_processing(staffed)
    before = svc(staffed).store.dossiers.get(code)
    assert message in act(logged_in(staffed, "minh"), code, "propose", **values)
    _unchanged(staffed, code, before)


def test_a_draft_file_over_the_limit_is_refused_before_it_is_stored(staffed, monkeypatch):
    monkeypatch.setattr(processing, "DRAFT", processing.DRAFT.model_copy(update={"max_size_mb": 0.01}))
    code = in_processing(staffed)
    before = svc(staffed).store.dossiers.get(code)
    files_before = set(svc(staffed).store.files.ids())
    page = act(logged_in(staffed, "minh"), code, "propose", opinion="x", proposal="approve",
               draft_file=(io.BytesIO(small_pdf("x" * 4000) + b"\n" * 20000), "lon.pdf"))
    assert "Tệp Dự thảo kết quả quá lớn: tối đa 0.01 MB" in page
    _unchanged(staffed, code, before)
    assert set(svc(staffed).store.files.ids()) == files_before


def test_a_refusal_proposal_then_the_leaders_refusal(staffed):
    store = svc(staffed).store
    code = in_processing(staffed)
    act(logged_in(staffed, "minh"), code, "propose", opinion="Giấy chứng sinh không hợp lệ.", proposal="refuse",
        refusal_reason="Giấy chứng sinh bị tẩy xóa.")
    proposed = store.dossiers.get(code).events[-1]
    assert proposed.data["proposal"] == "refuse" and proposed.data["reason"] == "Giấy chứng sinh bị tẩy xóa."
    leader = logged_in(staffed, "hung")
    assert "Cần nêu rõ lý do." in act(leader, code, "reject", reason="")
    act(leader, code, "reject", reason="Giấy chứng sinh bị tẩy xóa, không xác định được thông tin.")
    dossier = store.dossiers.get(code)
    assert dossier.status == Status.FINISHED and dossier.events[-1].data["decision"] == "rejected"
    assert dossier.events[-1].data["from"] == processing.DEFAULT_APPROVAL_UNIT


def test_the_draft_of_another_agency_is_not_found(staffed):
    code = in_processing(staffed)
    act(logged_in(staffed, "minh"), code, "propose", opinion="x", proposal="approve", draft_file=pdf_upload())
    file_id = svc(staffed).store.dossiers.get(code).events[-1].data["draft_file"]["file_id"]
    assert logged_in(staffed, "binh").get(f"/staff/ho-so/{code}/du-thao/{file_id}").status_code == 404
    assert logged_in(staffed, "minh").get(f"/staff/ho-so/{code}/du-thao/not-a-draft").status_code == 404


# --- several stages, one of another agency (liên thông) ------------------------------------------


def test_stages_in_order_with_a_liaison_agency_and_rework_to_the_first(chain_app):
    store = svc(chain_app).store
    code = in_processing(chain_app)
    dossier = store.dossiers.get(code)
    started = dossier.events[-1]
    assert started.kind == "processing_started" and started.data["to"] == "Công chức Tư pháp – Hộ tịch"
    assert started.data["next_due"] == min(svc(chain_app).engine.calendar.add_working_days(
        started.at.astimezone(processing.VN_TZ).date(), 1), dossier.due_date).isoformat()  # the first stage's `days: 1`
    minh, cong, leader = logged_in(chain_app, "minh"), logged_in(chain_app, "cong"), logged_in(chain_app, "hung")

    assert "Đang chờ ý kiến của: Công chức Tư pháp – Hộ tịch" in html.unescape(minh.get(f"/staff/ho-so/{code}").get_data(as_text=True))
    page = act(minh, code, "propose", opinion="Giấy tờ hợp lệ; đề nghị Công an xã xác minh cư trú.", proposal="approve")
    assert "Đang chờ ý kiến của: Công an xã – Xác minh cư trú (liên thông, cơ quan 000.00.40.H12)" in page
    proposed = store.dossiers.get(code).events[-1]
    assert (proposed.data["stage"], proposed.data["final"], proposed.data["to"]) == (0, False, "Công an xã")
    # the liên thông stage: only its agency's staff
    before = store.dossiers.get(code)
    page = act(minh, code, "propose", opinion="x", proposal="approve", draft_text="y")
    assert "do cơ quan 000.00.40.H12 xử lý (liên thông)" in page
    _unchanged(chain_app, code, before)
    assert "Chuyên viên chưa trình ý kiến" in act(leader, code, "approve")  # not at the leader yet
    act(cong, code, "propose", opinion="Đã xác minh cư trú.", proposal="approve", draft_text="Dự thảo trích lục.")
    last = store.dossiers.get(code).events[-1]
    assert (last.data["stage"], last.data["final"], last.data["to"]) == (1, True, "Chủ tịch UBND xã")
    assert "Đang chờ lãnh đạo quyết định: Chủ tịch UBND xã" in html.unescape(leader.get(f"/staff/ho-so/{code}").get_data(as_text=True))

    # the leader sends it back to the first stage: its opinion must change, then the police's again
    page = leader.get(f"/staff/ho-so/{code}").get_data(as_text=True)
    assert 'name="to_stage"' in page and "Công chức Tư pháp – Hộ tịch" in page
    act(leader, code, "rework", reason="Kiểm tra lại giấy chứng sinh.", to_stage="0")
    rework = store.dossiers.get(code).events[-1]
    assert (rework.data["stage"], rework.data["to"]) == (0, "Công chức Tư pháp – Hộ tịch")
    page = act(minh, code, "propose", opinion="Giấy tờ hợp lệ; đề nghị Công an xã xác minh cư trú.", proposal="approve")
    assert "không thay đổi so với lần trình trước" in page
    act(minh, code, "propose", opinion="Đã đối chiếu bản chính giấy chứng sinh.", proposal="approve")
    act(cong, code, "propose", opinion="Đã xác minh cư trú.", proposal="approve", draft_text="Dự thảo trích lục.")
    act(leader, code, "approve")
    dossier = store.dossiers.get(code)
    assert dossier.status == Status.FINISHED

    lines = processing.control_sheet_lines(dossier)
    assert [(l.sender, l.receiver) for l in lines] == [
        ("Nguyễn Văn An", processing.DESK_UNIT),
        (processing.DESK_UNIT, "Công chức Tư pháp – Hộ tịch"),
        ("Công chức Tư pháp – Hộ tịch", "Công an xã"),
        ("Công an xã", "Chủ tịch UBND xã"),
        ("Chủ tịch UBND xã", "Công chức Tư pháp – Hộ tịch"),
        ("Công chức Tư pháp – Hộ tịch", "Công an xã"),
        ("Công an xã", "Chủ tịch UBND xã"),
        ("Chủ tịch UBND xã", processing.DESK_UNIT),
    ]
    # each stage's due is its `days` (1 working day) after it got the dossier
    cal = svc(chain_app).engine.calendar
    today = datetime.now(timezone.utc).astimezone(processing.VN_TZ).date()
    assert lines[2].due == min(cal.add_working_days(today, 1), dossier.due_date)
    assert all(l.on_time for l in lines[2:])


def test_a_rework_target_outside_the_chain_is_refused(chain_app):
    store = svc(chain_app).store
    code = in_processing(chain_app)
    act(logged_in(chain_app, "minh"), code, "propose", opinion="a", proposal="approve")
    act(logged_in(chain_app, "cong"), code, "propose", opinion="b", proposal="approve", draft_text="c")
    before = store.dossiers.get(code)
    assert "Bước trả lại không hợp lệ." in act(logged_in(chain_app, "hung"), code, "rework", reason="x", to_stage="7")
    _unchanged(chain_app, code, before)


# --- the control sheet, pure ----------------------------------------------------------------------


def test_control_sheet_lines_mark_a_late_hand_over():
    """A stage that handed on after its due is late on form 05; legacy events without
    parties get the ones the one-stop mechanism implies."""
    at = lambda day: datetime(2026, 3, day, 3, 0, tzinfo=timezone.utc)  # noqa: E731
    dossier = Dossier(code="000.00.31.H12-260302-0001", procedure_code="1.001193", spec_version="1", agency_code=AGENCY_A,
                      channel="online", contact=Contact(name="Lê Thị Hoa"), due_date=date(2026, 3, 10))
    dossier.record(Event(actor="citizen", kind="filed", status=Status.NEW, at=at(2)))
    dossier.record(Event(actor="staff:lan", kind="received", status=Status.RECEIVED, at=at(2)))  # no parties: legacy
    dossier.record(Event(actor="staff:lan", kind="processing_started", status=Status.PROCESSING, at=at(3),
                         data={"from": "Bộ phận một cửa", "to": "Phòng Tư pháp", "due": "2026-03-10", "next_due": "2026-03-04"}))
    dossier.record(Event(actor="staff:minh", kind="proposed", at=at(6),
                         data={"from": "Phòng Tư pháp", "to": "Lãnh đạo", "due": "2026-03-04", "final": True}))
    dossier.record(Event(actor="staff:hung", kind="note", at=at(6)))  # not a hand-over
    lines = processing.control_sheet_lines(dossier)
    assert [l.index for l in lines] == [1, 2, 3]
    assert [(l.sender, l.receiver, l.due, l.on_time) for l in lines] == [
        ("Tổ chức, cá nhân", processing.DESK_UNIT, None, None),
        ("Bộ phận một cửa", "Phòng Tư pháp", date(2026, 3, 10), True),
        ("Phòng Tư pháp", "Lãnh đạo", date(2026, 3, 4), False),
    ]
    assert lines[2].what == {"vi": "Hồ sơ, ý kiến và dự thảo kết quả", "en": "Dossier, opinion and draft result"}


def test_progress_is_a_fold_over_the_timeline():
    plan = processing.Plan((processing.Stage(0, "A"), processing.Stage(1, "B")), "L", None, True)
    dossier = Dossier(code="X-1", procedure_code="1.001193", spec_version="1", agency_code=AGENCY_A, channel="online",
                      contact=Contact(name="An"))
    assert processing.progress(dossier, plan).stage == 0
    dossier.record(Event(actor="staff:a", kind="proposed", data={"stage": 0, "opinion": "o"}))
    assert processing.progress(dossier, plan).stage == 1 and processing.progress(dossier, plan).pending is None
    dossier.record(Event(actor="staff:b", kind="proposed", data={"stage": 1, "opinion": "p"}))
    now = processing.progress(dossier, plan)
    assert now.stage == 2 and now.pending is not None and now.pending.opinion == "p"
    dossier.record(Event(actor="staff:l", kind="returned_for_rework", data={"stage": 0}))
    now = processing.progress(dossier, plan)
    assert (now.stage, now.round, now.pending, now.returned.opinion) == (0, 1, None, "o")
    dossier.record(Event(actor="staff:l", kind="decided", status=Status.FINISHED))
    assert processing.progress(dossier, plan).stage is None


def test_staff_reading_english_get_the_refusals_and_panels_in_english(staffed):
    code = in_processing(staffed)
    leader = logged_in(staffed, "hung")
    leader.set_cookie("lang", "en")
    page = act(leader, code, "approve")
    assert "No specialist has submitted an opinion and a draft result yet, so the leader cannot decide." in page
    specialist = logged_in(staffed, "minh")
    specialist.set_cookie("lang", "en")
    page = act(specialist, code, "propose", opinion="Đủ điều kiện.", proposal="approve")
    assert "A draft result (text or a PDF file) is needed to propose approval to the leader." in page
    act(specialist, code, "propose", opinion="Đủ điều kiện.", proposal="approve", draft_text="Dự thảo.")
    page = html.unescape(leader.get(f"/staff/ho-so/{code}").get_data(as_text=True))
    assert "Opinions and draft result" in page and "Propose approval" in page and "Return for rework" in page
    sheet = page[page.index("panel-control-sheet"):].split("</section>")[0]
    assert "Dossier, opinion and draft result" in sheet and "On time" in sheet


def test_staff_of_the_liaison_agency_only_see_the_dossier_while_it_is_at_their_stage(chain_app):
    store = svc(chain_app).store
    code = in_processing(chain_app)
    tuan = logged_in(chain_app, "tuan")
    assert code not in tuan.get("/staff/").get_data(as_text=True)
    assert tuan.get(f"/staff/ho-so/{code}").status_code == 404

    act(logged_in(chain_app, "minh"), code, "propose", opinion="Đề nghị Công an xã xác minh cư trú.", proposal="approve")
    assert processing.liaison_agency(store.dossiers.get(code)) == AGENCY_C
    assert code in tuan.get("/staff/").get_data(as_text=True)  # the queue reads it from the summary
    page = html.unescape(tuan.get(f"/staff/ho-so/{code}").get_data(as_text=True))
    assert 'value="propose"' in page
    assert 'value="apologize"' not in page and 'value="transfer"' not in page  # the opinion, nothing else
    before = store.dossiers.get(code)
    assert "không được phân công" in act(tuan, code, "apologize", reason="x", new_due_date="2099-01-20")
    _unchanged(chain_app, code, before)

    act(tuan, code, "propose", opinion="Đã xác minh: có cư trú tại xã.", proposal="approve", draft_text="Dự thảo.")
    proposed = store.dossiers.get(code).events[-1]
    assert proposed.actor == "staff:tuan" and proposed.data["from"] == "Công an xã"
    assert processing.liaison_agency(store.dossiers.get(code)) is None
    assert code not in tuan.get("/staff/").get_data(as_text=True)
    assert tuan.get(f"/staff/ho-so/{code}").status_code == 404
