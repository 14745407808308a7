"""The citizen's messages carry the way back to the dossier.

An e-mail ends with the private tracking link (the receipt's), so a citizen who filed
through the API or lost the receipt opens the dossier without the factor; it is built from
the app's config alone, so a step run by the CLI (no request) writes the same link a web
request would. An SMS carries no link, only where to look up, within one SMS. Neither the
dev sender's log line nor the dev outbox page shows the link's token.
"""

from __future__ import annotations

import logging
from datetime import date
from urllib.parse import urlsplit

import pytest

from fixtures.workflow_kit import DESK, file_dossier, make_spec
from motcua.tracking import link_token, private_link_url
from motcua.workflow.outbox import LogSender, outbox_for
from motcua_plugins.notify import LOOKUP_PATH, SMS_LIMIT, TEMPLATES, gsm_length, sms_for, sms_text

STEPS = ["review", "notify"]
PUBLIC = "https://dichvucong.example.gov.vn"


def messages(app, code: str) -> list[dict]:
    assert app.extensions["motcua"].engine.flush()
    return outbox_for(app.extensions["motcua"], app.config).messages(code)


def one(found: list[dict], milestone: str, channel: str) -> dict:
    [message] = [m for m in found if m["milestone"] == milestone and m["channel"] == channel]
    return message


def link_in(body: str) -> str:
    last = body.rstrip().splitlines()[-1]
    assert last.startswith("Theo dõi hồ sơ: "), body
    return last.removeprefix("Theo dõi hồ sơ: ")


def test_email_link_of_a_dossier_filed_outside_the_portal_opens_it_without_the_factor(app) -> None:
    """Filed as the API files (no browser session, no receipt): the e-mail is the way in."""
    app.config["PUBLIC_URL"] = PUBLIC
    code = file_dossier(app, make_spec(STEPS))  # outside any request, as the engine runs for the API/CLI
    found = messages(app, code)
    link = link_in(one(found, "filed", "email")["body"])
    assert link == f"{PUBLIC}/ho-so/{code}/xem/{link_token(app.secret_key, code)}"
    stranger = app.test_client()
    assert stranger.get(f"/ho-so/{code}").status_code == 302  # no factor, no session: sent to the lookup
    opened = stranger.get(urlsplit(link).path)
    assert opened.status_code == 303 and opened.headers["Location"].endswith(f"/ho-so/{code}")
    page = stranger.get(f"/ho-so/{code}")
    assert page.status_code == 200 and code in page.get_data(as_text=True)
    # a link of another dossier does not open this one
    other = file_dossier(app, make_spec(STEPS))
    other_link = urlsplit(link_in(one(messages(app, other), "filed", "email")["body"])).path
    assert app.test_client().get(other_link.replace(other, code)).status_code == 404


def test_email_of_a_dossier_filed_in_the_portal_carries_the_receipts_link(app, monkeypatch) -> None:
    """Filed through the form (inside a request, no PUBLIC_URL in tests: the request's host):
    the e-mail's link is the one on the confirmation page, and it opens in another browser."""
    from tests.portal_helpers import GOOD_ANSWERS
    from tests.test_tracking_private_link import filed_in_browser, private_link_of

    monkeypatch.setitem(GOOD_ANSWERS["requester"], "requester.email", "dan@example.vn")
    citizen, code = filed_in_browser(app)
    found = messages(app, code)
    assert one(found, "filed", "email")["to"] == "dan@example.vn"
    link = link_in(one(found, "filed", "email")["body"])
    assert urlsplit(link).path == private_link_of(citizen, code)
    other = app.test_client()
    assert other.get(urlsplit(link).path).status_code == 303
    assert code in other.get(f"/ho-so/{code}").get_data(as_text=True)


def test_link_built_without_a_request_equals_the_one_built_in_a_request(app) -> None:
    from motcua.public_url import external_url
    from motcua.web.portal import private_tracking_url

    app.config["PUBLIC_URL"] = PUBLIC
    code = file_dossier(app, make_spec(STEPS))
    with app.app_context():  # what a job gives a step: an app, no request
        app.extensions["motcua"].engine.perform(code, "receive", DESK)
    received = link_in(one(messages(app, code), "received", "email")["body"])
    without_request = private_link_url(code, app.config)
    with app.test_request_context(f"/ho-so/{code}/xac-nhan", base_url="http://evil.example"):
        in_request = private_tracking_url(code)
        by_route = external_url("portal.private_link", code=code, token=link_token(app.secret_key, code))
        lookup = external_url("portal.lookup")
    assert received == without_request == in_request == by_route
    assert in_request.startswith(PUBLIC + "/")  # never the Host header
    assert lookup == PUBLIC + LOOKUP_PATH
    sms = one(messages(app, code), "received", "sms")["body"]
    assert sms.endswith(" Tra cuu tai dichvucong.example.gov.vn/tra-cuu")


def test_no_public_address_outside_a_request_sends_the_messages_without_links(app) -> None:
    """A test or demo without PUBLIC_URL: the step still sends (and never guesses a host)."""
    assert not app.config.get("PUBLIC_URL")
    code = file_dossier(app, make_spec(STEPS))
    found = messages(app, code)
    email, sms = one(found, "filed", "email"), one(found, "filed", "sms")
    assert "Theo dõi hồ sơ" not in email["body"] and "/xem/" not in email["body"]
    assert "Tra cuu tai" not in sms["body"] and code in sms["body"]


LONG_FIELDS = {
    "code": "UBND-XA-PHUONG-TAN-DINH-QUAN-1-TPHCM-20250101-000123",
    "procedure": "Đăng ký khai sinh kết hợp đăng ký thường trú, cấp thẻ bảo hiểm y tế cho trẻ em dưới 6 tuổi "
                 "và cấp bản sao trích lục khai sinh có yếu tố nước ngoài",
    "due_date": "05/01/2099",
    "amount": "1.250.000 ₫",
    "reason": "Giấy chứng sinh không hợp lệ [bản chụp mờ], thiếu chữ ký {người đi khai}; " * 4,
    "missing": "; ".join(["Bản sao giấy chứng sinh có chứng thực", "Giấy xác nhận tình trạng hôn nhân"] * 4),
    "office": "Ủy ban nhân dân phường Tân Định, Thành phố Hồ Chí Minh (Bộ phận tiếp nhận và trả kết quả) " * 2,
    "fee_change": "Phí, lệ phí mới: 1.250.000 ₫.",
}


@pytest.mark.parametrize("milestone", list(TEMPLATES))
def test_every_milestones_sms_fits_one_message_with_long_fields(milestone: str) -> None:
    address = "dichvucong.phuong-tan-dinh.quan1.hochiminhcity.gov.vn/tra-cuu"
    text = sms_for(milestone, LONG_FIELDS, address)
    assert gsm_length(text) <= SMS_LIMIT, (gsm_length(text), text)
    assert LONG_FIELDS["code"] in text and text.endswith(f" Tra cuu tai {address}")
    assert text.isascii() and "`" not in text and "\n" not in text
    # without a public address it still fits
    alone = sms_for(milestone, LONG_FIELDS, None)
    assert gsm_length(alone) <= SMS_LIMIT and LONG_FIELDS["code"] in alone


def test_sms_cuts_only_what_is_too_long_and_counts_gsm_extension_characters() -> None:
    short = dict(LONG_FIELDS, code="UBND-20250101-0001", procedure="Khai sinh", reason="Sai ten", missing="CCCD")
    assert sms_text(TEMPLATES["refused"][1], short, "x.vn/tra-cuu") == \
        "Ho so UBND-20250101-0001 khong duoc tiep nhan. Ly do: Sai ten. Tra cuu tai x.vn/tra-cuu"
    assert gsm_length("a[b]{c}") == 11
    braces = dict(short, reason="[" * 200)
    text = sms_text(TEMPLATES["refused"][1], braces, "x.vn/tra-cuu")
    assert gsm_length(text) <= SMS_LIMIT < len(text) * 2 and "..." in text
    # a code longer than an SMS: cut, still one message
    huge = dict(short, code="C" * 300)
    assert gsm_length(sms_text(TEMPLATES["received"][1], huge, "x.vn/tra-cuu")) <= SMS_LIMIT


def test_real_sms_of_a_long_procedure_name_fits(app) -> None:
    app.config["PUBLIC_URL"] = PUBLIC
    spec = make_spec(STEPS)
    spec = spec.model_copy(update={"name": {"vi": LONG_FIELDS["procedure"], "en": "Birth registration"}})
    code = file_dossier(app, spec, due=date(2099, 1, 5))
    engine = app.extensions["motcua"].engine
    engine.perform(code, "receive", DESK)
    engine.perform(code, "request_supplement", DESK, reason=LONG_FIELDS["reason"], missing=LONG_FIELDS["missing"])
    found = [m for m in messages(app, code) if m["channel"] == "sms"]
    assert {m["milestone"] for m in found} == {"filed", "received", "supplement_requested"}
    for message in found:
        assert gsm_length(message["body"]) <= SMS_LIMIT and code in message["body"], message["body"]
        assert message["body"].endswith("Tra cuu tai dichvucong.example.gov.vn/tra-cuu")
    assert "Dang ky khai sinh ket hop" in one(found, "filed", "sms")["body"]  # cut, not dropped


def test_log_line_and_dev_outbox_page_hide_the_token(app, client, caplog) -> None:
    app.config["PUBLIC_URL"] = PUBLIC
    code = file_dossier(app, make_spec(STEPS))
    token = link_token(app.secret_key, code)
    with caplog.at_level(logging.INFO, logger="motcua.workflow.outbox"):
        found = messages(app, code)
        email = one(found, "filed", "email")
        assert token in email["body"]  # stored as sent: the citizen needs it
        LogSender().send(email)  # the dev sender, as the send_message job calls it
    lines = [r.getMessage() for r in caplog.records if r.name == "motcua.workflow.outbox"]
    sent = [line for line in lines if line.startswith("email to dan@example.vn") and code in line]
    assert sent and all(f"/ho-so/{code}/xem/[redacted]" in line for line in sent), lines
    assert not any(token in line for line in lines)
    page = client.get(f"/dev/outbox?code={code}").get_data(as_text=True)
    assert f"/ho-so/{code}/xem/[redacted]" in page and token not in page
    assert "Tra cuu tai dichvucong.example.gov.vn/tra-cuu" in page
