"""The one-stop desk as a desk officer works it: a paper dossier handed in (or come by post) is
received when entered, the fee taken at the counter is recorded with it, the postal address
uses the shared commune widget, an action a step holds back says why, and the timeline reads
in order with what a supplement request asked for.

Real app, real TinyDB folder, the shipped birth-registration spec (payment, review, postal).
"""

from __future__ import annotations

import re

from motcua import accounts, units
from motcua.dossier import Status

from test_backoffice import PASSWORD, AGENCY_A, answers, csrf_of, form_data, logged_in, office, two_agency_specs  # noqa: F401

INTAKE = "/staff/tiep-nhan/1.001193"


def intake_post(client, values: dict | None = None, **extra: str):
    """Post the intake form as the page would, with the birth certificate ticked."""
    data = form_data(values or answers(name="Hoàng Thị Mai"))
    data.update({"csrf_token": csrf_of(client.get(INTAKE).get_data(as_text=True)), "received.giay_chung_sinh": "1",
                 "delivery.kind": "desk"})
    data.update(extra)
    return client.post(INTAKE, data=data)


def filed_code(response) -> str:
    assert response.status_code == 302, response.get_data(as_text=True)
    return response.location.rsplit("/", 1)[-1]


def svc(app):
    return app.extensions["motcua"]


# --- 1. received at once ------------------------------------------------------------------------


def test_a_walk_in_dossier_is_received_when_the_officer_enters_it(office):
    client = logged_in(office, "lan")
    code = filed_code(intake_post(client))
    dossier = svc(office).store.dossiers.get(code)
    assert dossier.status == Status.RECEIVED
    assert dossier.channel == "desk"
    filed = next(e for e in dossier.events if e.kind == "filed")
    received = next(e for e in dossier.events if e.kind == "received")
    assert filed.actor == received.actor == "staff:lan"
    assert received.status == Status.RECEIVED
    assert dossier.events.index(filed) < dossier.events.index(received)

    page = client.get(f"/staff/ho-so/{code}").get_data(as_text=True)
    assert 'name="action" value="receive"' not in page  # nothing to receive a second time
    assert 'name="action" value="process"' in page  # the next step of a received dossier
    assert f"Đã tiếp nhận hồ sơ {code}." in page


# --- 2. channel and the fee taken at the counter ----------------------------------------------------


def test_the_intake_offers_desk_and_postal_and_files_a_postal_dossier(office):
    client = logged_in(office, "lan")
    page = client.get(INTAKE).get_data(as_text=True)
    assert 'name="channel" value="desk"' in page and 'name="channel" value="postal"' in page
    assert "Nộp trực tiếp" in page and "Nhận qua bưu chính" in page

    code = filed_code(intake_post(client, channel="postal"))
    dossier = svc(office).store.dossiers.get(code)
    assert dossier.channel == "postal"
    assert dossier.status == Status.RECEIVED  # nothing to pay here: received at once as well


def test_an_unknown_channel_is_refused_and_nothing_is_filed(office):
    client = logged_in(office, "lan")
    before = svc(office).store.dossiers.count()
    response = intake_post(client, channel="online")  # a web filing is not entered at the desk
    assert response.status_code == 422
    assert "Chọn cách hồ sơ được nộp." in response.get_data(as_text=True)
    assert "Hoàng Thị Mai" in response.get_data(as_text=True)  # kept
    assert svc(office).store.dossiers.count() == before


def test_the_fee_taken_at_the_counter_is_recorded_by_the_payment_steps_desk_action(office):
    client = logged_in(office, "lan")
    page = client.get(INTAKE).get_data(as_text=True)
    assert 'name="fee.paid"' in page and 'name="fee.receipt_no"' in page

    code = filed_code(intake_post(client, answers(copies=2), **{"fee.paid": "1", "fee.receipt_no": "BL-0042"}))
    dossier = svc(office).store.dossiers.get(code)
    assert dossier.fee_total == 16000
    paid = [e for e in dossier.events if e.kind == "paid"]
    assert len(paid) == 1
    assert paid[0].actor == "staff:lan"
    assert paid[0].data["method"] == "desk" and paid[0].data["receipt_no"] == "BL-0042"
    assert paid[0].data["amount"] == 16000
    assert dossier.steps["payment"]["paid"] is True  # the step itself knows, not just the timeline
    shown = client.get(f"/staff/ho-so/{code}").get_data(as_text=True)
    assert "Đã thanh toán" in shown


def test_a_fee_ticked_without_a_receipt_number_is_an_error_and_nothing_is_filed(office):
    client = logged_in(office, "lan")
    before = svc(office).store.dossiers.count()
    response = intake_post(client, answers(copies=2), **{"fee.paid": "1", "fee.receipt_no": " "})
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert "Nhập số biên lai thu phí, lệ phí." in text
    assert "16.000 ₫" in text  # what the answers come to, shown next to the tick
    assert svc(office).store.dossiers.count() == before


def test_a_fee_left_unpaid_is_not_recorded(office):
    client = logged_in(office, "lan")
    code = filed_code(intake_post(client, answers(copies=2)))
    dossier = svc(office).store.dossiers.get(code)
    assert dossier.status == Status.RECEIVED
    assert not any(e.kind == "paid" for e in dossier.events)


def test_paper_that_came_by_post_is_received_and_paid_at_the_desk_and_not_collected_again(office):
    """The shipped spec pays online, but paper entered at the desk brings its fee to the desk
    (motcua_plugins.payment.entered_by_staff): received and paid at once; and the postal step books
    no home collection of papers that are already on the desk."""
    client = logged_in(office, "lan")
    response = intake_post(client, answers(copies=2), channel="postal", **{"fee.paid": "1", "fee.receipt_no": "BL-7"})
    dossier = svc(office).store.dossiers.get(filed_code(response))
    assert dossier.channel == "postal" and dossier.status == Status.RECEIVED
    assert [e.data["receipt_no"] for e in dossier.events if e.kind == "paid"] == ["BL-7"]
    kinds = [e.kind for e in dossier.events]
    assert "payment_requested" not in kinds and not any("postal" in k or "shipment" in k for k in kinds), kinds


# --- 3. the shared address widget -------------------------------------------------------------------


def test_the_postal_address_uses_the_shared_widget_with_the_commune_list(office):
    client = logged_in(office, "lan")
    province = units.provinces()[0]
    commune = units.communes(province.code)[0]
    page = client.get(INTAKE).get_data(as_text=True)
    assert f'<option value="{province.code}"' in page  # provinces by code, as the portal's widget
    assert "data-communes-url" in page and "renderers/form.js" in page

    # Without JavaScript: "show the communes" re-posts the page, lists them, files nothing.
    listing = intake_post(client, **{"delivery.kind": "postal", "delivery.address.province": province.code, "_units": "delivery.address"})
    assert listing.status == "200 OK"
    assert f'<option value="{commune.code}"' in listing.get_data(as_text=True)
    assert "Hoàng Thị Mai" in listing.get_data(as_text=True)

    code = filed_code(intake_post(client, **{
        "delivery.kind": "postal", "delivery.address.province": province.code,
        "delivery.address.commune": commune.code, "delivery.address.street": "Số 5, ngõ 12",
    }))
    address = svc(office).store.dossiers.get(code).delivery.address
    assert address["province_code"] == province.code and address["commune_code"] == commune.code
    assert address["commune"] == commune.name and address["street"] == "Số 5, ngõ 12"


def test_a_wrong_commune_gets_the_widgets_message_and_keeps_what_was_typed(office):
    client = logged_in(office, "lan")
    province = units.provinces()[0]
    response = intake_post(client, **{"delivery.kind": "postal", "delivery.address.province": province.code,
                                      "delivery.address.commune": "Xã Không Có Thật", "delivery.address.street": "Thôn 3"})
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert 'id="f-delivery-address-commune-error"' in text
    assert "Thôn 3" in text
    # The province is known, so the commune is now chosen from that province's list.
    commune_select = re.search(r'<select[^>]*name="delivery.address.commune".*?</select>', text, re.S)
    assert commune_select, "the commune is not a list once the province is known"
    assert f'value="{units.communes(province.code)[0].code}"' in commune_select.group(0)


# --- 4. an action a step holds back ---------------------------------------------------------------


def _decided_unpaid(app) -> str:
    """A desk dossier with two extract copies, received, processed and approved, fee unpaid."""
    from motcua.filing import file_dossier

    store, engine = svc(app).store, svc(app).engine
    accounts.create_account(store, "hung", "Phạm Văn Hùng", ["leader"], [AGENCY_A], PASSWORD)
    lan = accounts.get_account(store, "lan")
    with app.test_request_context():
        code = file_dossier(svc(app).catalogue.get("1.001193"), answers(copies=2), [], channel="desk", delivery=None,
                            actor=lan.actor, agency=AGENCY_A).code
    engine.perform(code, "receive", lan)
    engine.perform(code, "process", lan)
    engine.perform(code, "propose", accounts.get_account(store, "minh"), opinion="Đủ điều kiện.", proposal="approve",
                   draft_text="Dự thảo trích lục khai sinh.")
    engine.perform(code, "approve", accounts.get_account(store, "hung"))
    assert store.dossiers.get(code).status == Status.FINISHED
    return code


def test_engine_lists_an_action_a_step_blocks_only_when_asked_with_the_reason(office):
    code = _decided_unpaid(office)
    store, engine = svc(office).store, svc(office).engine
    dossier, lan = store.dossiers.get(code), accounts.get_account(store, "lan")
    assert "return_result" not in [a.name for a in engine.actions(dossier, lan)]  # unchanged by default
    listed = {a.name: a for a in engine.actions(dossier, lan, include_blocked=True)}
    assert "16.000 ₫" in listed["return_result"].blocked_reason
    assert listed["record_payment"].blocked_reason is None
    # Not someone else's to do: a specialist is not shown the desk's blocked action.
    minh = accounts.get_account(store, "minh")
    assert "return_result" not in [a.name for a in engine.actions(dossier, minh, include_blocked=True)]
    # Nor what the status table forbids (receive, on a decided dossier).
    assert "receive" not in listed


def test_return_result_is_shown_disabled_with_why_until_the_fee_is_recorded(office):
    code = _decided_unpaid(office)
    client = logged_in(office, "lan")
    page = client.get(f"/staff/ho-so/{code}").get_data(as_text=True)
    assert 'name="action" value="return_result"' not in page  # no form to post
    assert 'data-blocked-action="return_result"' in page
    blocked = page.split('data-blocked-action="return_result"', 1)[1].split("</div>", 1)[0]
    assert "Trả kết quả" in blocked and "16.000 ₫" in blocked and "disabled" in blocked

    # Posted anyway (a stale page, a forged post): the engine refuses, with the same reason.
    refused = client.post(f"/staff/ho-so/{code}/xu-ly", data={"action": "return_result", "csrf_token": csrf_of(page)},
                          follow_redirects=True)
    assert "16.000 ₫" in refused.get_data(as_text=True)
    assert svc(office).store.dossiers.get(code).status == Status.FINISHED

    client.post(f"/staff/ho-so/{code}/xu-ly", data={"action": "record_payment", "receipt_no": "BL-9", "amount": "16.000", "csrf_token": csrf_of(page)})
    after = client.get(f"/staff/ho-so/{code}").get_data(as_text=True)
    assert 'name="action" value="return_result"' in after
    assert 'data-blocked-action="return_result"' not in after


# --- 5. and 6. the timeline ---------------------------------------------------------------------


def _timeline(page: str) -> str:
    return page.split('id="h-timeline"', 1)[1]


def test_the_staff_timeline_reads_oldest_first_like_the_citizens(office):
    from test_backoffice import file_online

    code = file_online(office).code
    svc(office).engine.perform(code, "receive", accounts.get_account(svc(office).store, "lan"))
    client = logged_in(office, "lan")
    rows = _timeline(client.get(f"/staff/ho-so/{code}").get_data(as_text=True))
    filed_at, received_at = rows.index("→ Mới đăng ký"), rows.index("→ Đã tiếp nhận")
    assert filed_at < received_at


def test_the_staff_timeline_shows_what_a_supplement_request_asked_for(office):
    from test_backoffice import file_online

    dossier = file_online(office)
    client = logged_in(office, "lan")
    page = client.get(f"/staff/ho-so/{dossier.code}").get_data(as_text=True)
    client.post(f"/staff/ho-so/{dossier.code}/xu-ly", data={
        "action": "request_supplement", "reason": "Hồ sơ thiếu giấy tờ.",
        "missing": "Bản sao giấy tờ tùy thân của mẹ\nGiấy chứng sinh <bản chính>",
        "components": "giay_chung_sinh", "csrf_token": csrf_of(page),
    })
    assert svc(office).store.dossiers.get(dossier.code).status == Status.SUPPLEMENT_REQUESTED
    rows = _timeline(client.get(f"/staff/ho-so/{dossier.code}").get_data(as_text=True))
    assert "Hồ sơ thiếu giấy tờ." in rows
    assert "<li>Bản sao giấy tờ tùy thân của mẹ</li>" in rows
    assert "<li>Giấy chứng sinh &lt;bản chính&gt;</li>" in rows  # escaped: what staff typed is text
    assert "Thành phần hồ sơ cần nộp lại: Giấy chứng sinh" in rows


# --- the amount to collect ----------------------------------------------------------------------

def test_the_intake_shows_the_amount_to_collect_and_recomputes_it_without_filing(office):
    client = logged_in(office, "lan")
    first = client.get(INTAKE).get_data(as_text=True)
    shown = first.split("data-fee-to-collect>", 1)[1].split("</p>", 1)[0]
    assert "Số tiền phải thu theo tờ khai" in shown and "0 ₫" in shown  # no copies asked yet: nothing to collect
    before = svc(office).store.dossiers.count()
    response = intake_post(client, answers(name="Hoàng Thị Mai", copies=2), _fee="1")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    shown = page.split("data-fee-to-collect>", 1)[1].split("</ul>", 1)[0]
    assert "2 × 8.000 ₫ = 16.000 ₫" in shown  # the count, the price of each, the line's total
    assert "error-summary" not in page and svc(office).store.dossiers.count() == before  # nothing filed
    assert "Hoàng Thị Mai" in page  # what was typed is kept
