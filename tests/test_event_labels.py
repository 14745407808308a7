"""Words on the timeline and in the filters: system notes rendered in the reader's language,
typed notes as typed, the built-in steps' notes in both languages, life events as words."""

from __future__ import annotations

import copy
from datetime import date, timedelta

import yaml

from fixtures.workflow_kit import DESK, LEADER, file_dossier, make_spec
from motcua.dossier import Event, Status
from motcua.spec.lint import lint_file
from motcua.web import labels
from motcua.workflow import notes
from motcua.workflow.step import StepContext
from tests.test_spec_lint import BASE, write


def test_a_note_template_renders_in_both_locales() -> None:
    text, msg = notes.split(notes.message({"vi": "Phí, lệ phí phải nộp: {amount}, hạn {due}.",
                                           "en": "Fees to pay: {amount}, by {due}."},
                                          amount=notes.money(115000), due=date(2026, 12, 1)))
    assert text == "Phí, lệ phí phải nộp: 115.000 ₫, hạn 01/12/2026."  # what Event.note keeps
    event = Event(actor="step:payment", kind="payment_requested", note=text, message=msg)
    event = Event.model_validate(event.model_dump(mode="json"))  # as the store gives it back
    assert labels.event_note(event, "vi") == "Phí, lệ phí phải nộp: 115.000 ₫, hạn 01/12/2026."
    assert labels.event_note(event, "en") == "Fees to pay: VND 115,000, by Dec 1, 2026."


def test_typed_text_stays_as_typed_and_bare_ltext_is_a_message() -> None:
    assert notes.split("Thiếu bản chính giấy chứng sinh") == ("Thiếu bản chính giấy chứng sinh", None)
    text, msg = notes.split({"vi": "Bưu điện đã phát.", "en": "Delivered."})
    assert text == "Bưu điện đã phát." and notes.render(msg, "en") == "Delivered."
    assert notes.render(notes.message({"vi": "Mục {n}"}), "en") == "Mục {n}"  # a field it was not given: no crash
    typed = Event(actor="staff:lan", kind="refused", note="Không thuộc thẩm quyền")
    assert labels.event_note(typed, "en") == "Không thuộc thẩm quyền"


def test_a_malformed_note_fails_in_the_step_that_wrote_it(app) -> None:
    code = file_dossier(app, make_spec(["review"]), fee=0)
    dossier = app.extensions["motcua"].store.dossiers.get(code)
    ctx = StepContext(app.extensions["motcua"].engine, dossier, None, "x", 0, None)  # type: ignore[arg-type]
    for bad in ({"en": "no Vietnamese"}, 42):
        try:
            ctx.record("x_done", note=bad)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            continue
        raise AssertionError(f"{bad!r} accepted")
    assert ctx.pending == []


def test_built_in_notes_follow_the_reader(app) -> None:
    """A pause's clock note (engine) and the postal step's booking note (postal) in vi and en."""
    engine = app.extensions["motcua"].engine
    code = file_dossier(app, make_spec(["review"]), fee=0)
    engine.perform(code, "receive", DESK)
    engine.perform(code, "process", DESK)
    engine.perform(code, "stop", LEADER, reason="Chờ xác minh")
    store = app.extensions["motcua"].store

    def back_dated(d):  # the pause started three working days before today
        from motcua.workflow import lifecycle

        lifecycle.engine_state(d)["paused_since"] = (lifecycle.vn_today() - timedelta(days=10)).isoformat()

    store.dossiers.update(code, back_dated)
    d = engine.perform(code, "resume", LEADER)
    resumed = next(e for e in d.events if e.kind == "clock_resumed")
    stopped = next(e for e in d.events if e.kind == "stopped")
    assert labels.event_note(resumed, "vi").startswith("Thời gian tạm dừng ")
    assert "working days paused" in labels.event_note(resumed, "en")
    assert labels.event_note(stopped, "en") == "Chờ xác minh"  # the leader's words, as written


def test_built_in_steps_declare_their_kinds() -> None:
    from motcua.workflow.events import event_kinds

    kinds = event_kinds()
    for kind in ("shipment_booked", "postal_status", "payment_due_at_desk", "payment_failed", "payment_not_needed"):
        assert kinds[kind].label["vi"] and kinds[kind].label["en"], kind
    assert {k for k, v in kinds.items() if v.internal} >= {"step_failed", "step_gave_up", "step_recovered"}


def test_life_event_filter_and_info_page_show_words(client) -> None:
    html = client.get("/").get_data(as_text=True)
    assert ">Cư trú</option>" in html and ">Kết hôn</option>" in html and ">Khai sinh</option>" in html
    assert "Cu tru" not in html and "Ket hon" not in html
    info = client.get("/thu-tuc/1.001193").get_data(as_text=True)
    assert "Sự kiện cuộc sống" in info and ">Khai sinh</a>" in info
    assert ">Residence</option>" in client.get("/?lang=en").get_data(as_text=True)
    assert ">Birth</a>" in client.get("/thu-tuc/1.001193?lang=en").get_data(as_text=True)


def test_every_life_event_of_the_specs_is_in_the_vocabulary() -> None:
    from motcua.spec.life_events import vocabulary
    from tests.conftest import REPO

    used = {slug for path in (REPO / "procedure_specs").rglob("*.yaml")
            for slug in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("life_events", [])}
    assert used and used <= set(vocabulary())


def test_lint_warns_on_a_life_event_outside_the_vocabulary(tmp_path) -> None:
    data = copy.deepcopy(yaml.safe_load(BASE.read_text(encoding="utf-8")))
    data["life_events"] = ["khai-sinh", "ket-hong"]
    found = lint_file(write(tmp_path, data), lang="en").findings
    warned = [f for f in found if "life event" in f.message]
    assert len(warned) == 1 and warned[0].severity == "warning"
    assert "`ket-hong`" in warned[0].message and "did you mean `ket-hon`" in warned[0].message
    data["life_events"] = ["khai-sinh", "ket-hon"]
    assert not [f for f in lint_file(write(tmp_path, data), lang="en").findings if "life event" in f.message]


def test_paper_components_note_follows_the_reader_not_the_clerk(app) -> None:
    from motcua.web.backoffice import _record_paper_components
    from fixtures.workflow_kit import DESK

    spec = make_spec(["review"])
    code = file_dossier(app, spec, fee=0)
    first = spec.attachments[0]
    with app.test_request_context("/?lang=en"):  # a clerk reading in English records it
        from flask import g

        g.lang = "en"
        _record_paper_components(code, spec, {first.id}, DESK)
    event = app.extensions["motcua"].store.dossiers.get(code).events[-1]
    assert event.kind == "paper_components" and event.note == f"Đã nhận bản giấy: {first.name['vi']}."
    assert labels.event_note(event, "en") == f"Paper documents received: {first.name.get('en') or first.name['vi']}."


def test_desk_payment_says_the_fee_is_due_in_the_readers_language(app) -> None:
    code = file_dossier(app, make_spec([{"name": "payment", "config": {"mode": "desk"}}, "review"]), fee=16000)
    due = next(e for e in app.extensions["motcua"].store.dossiers.get(code).events if e.kind == "payment_due_at_desk")
    assert labels.event_label(due.kind, lang="vi") == "Chờ nộp phí, lệ phí"
    assert labels.event_label(due.kind, lang="en") == "Fees due"
    assert labels.event_note(due, "vi") == "Phí, lệ phí phải nộp tại Bộ phận một cửa: 16.000 ₫."
    assert labels.event_note(due, "en") == "Fees to pay at the one-stop desk: VND 16,000."
    d = app.extensions["motcua"].engine.perform(code, "record_payment", DESK, receipt_no="BL-0042", amount="16000")
    paid = d.events[-1]
    assert paid.kind == "paid" and paid.actor == "staff:desk"  # the clerk, by default
    assert labels.event_note(paid, "en") == "VND 16,000 received at the desk, receipt no. BL-0042."


def test_online_payment_notes_on_the_english_tracking_page(app) -> None:
    from tests.test_portal_tracking import lookup

    code = file_dossier(app, make_spec([{"name": "payment", "config": {"mode": "online"}}, "review"]), fee=115000)
    client = app.test_client()
    assert lookup(client, code, "0912345678").status_code == 302
    en = client.get(f"/ho-so/{code}?lang=en").get_data(as_text=True)
    assert "Fees to pay: VND 115,000." in en and "Phí, lệ phí phải nộp" not in en
    vi = client.get(f"/ho-so/{code}?lang=vi").get_data(as_text=True)
    assert "Phí, lệ phí phải nộp: 115.000 ₫." in vi


def test_a_cancelled_vnpay_payment_reads_you_cancelled(app, live_server) -> None:
    from conftest import LiveServer
    from motcua_plugins.simulators import vnpay as vnpay_sim
    from tests.test_payment import SECRET, citizen_chooses, start_payment
    from tests.test_portal_tracking import lookup
    from fixtures.workflow_kit import kinds, wait_for

    sim = vnpay_sim.create_app(tmn_code="MOTCUA01", secret=SECRET, ipn_url=live_server.url + "/thanh-toan/vnpay/ipn")
    with LiveServer(sim) as server:
        app.config.update(VNPAY_PAY_URL=server.url + "/paymentv2/vpcpay.html", VNPAY_TMN_CODE="MOTCUA01",
                          VNPAY_HASH_SECRET=SECRET, PUBLIC_URL=live_server.url)
        store = app.extensions["motcua"].store
        code = file_dossier(app, make_spec([{"name": "payment", "config": {"mode": "online"}}, "review"]), fee=16000)
        back = citizen_chooses(start_payment(app, live_server, code), "cancel")
        d = wait_for(lambda: (x := store.dossiers.get(code)) and "payment_failed" in kinds(x) and x)
    failed = next(e for e in d.events if e.kind == "payment_failed")
    # the citizen reads words addressed to them; staff read about the citizen, with VNPay's code
    assert labels.event_note(failed, "vi", citizen=True) == "Bạn đã hủy giao dịch."
    assert labels.event_note(failed, "en", citizen=True) == "You cancelled the payment."
    assert labels.event_note(failed, "vi") == "Công dân đã hủy giao dịch (VNPay mã 24)."
    assert labels.event_note(failed, "en") == "The citizen cancelled the payment (VNPay code 24)."
    client = app.test_client()
    returned = client.get(back.replace(live_server.url, "")).get_data(as_text=True)
    assert "Bạn đã hủy giao dịch." in returned
    assert lookup(client, code, "0912345678").status_code == 302
    page = client.get(f"/ho-so/{code}").get_data(as_text=True)
    assert page.count("Bạn đã hủy giao dịch.") == 2  # the payment panel and the timeline
    assert "mã 24" not in page
    assert "You cancelled the payment." in client.get(f"/ho-so/{code}?lang=en").get_data(as_text=True)
    from tests.test_accounts_results import staff_client

    staff_page = staff_client(app, "lan", ["desk"]).get(f"/staff/ho-so/{code}").get_data(as_text=True)
    assert staff_page.count("Công dân đã hủy giao dịch (VNPay mã 24).") == 2  # the payment panel and the timeline
    assert "Bạn đã hủy" not in staff_page
