"""Every date people read is in Vietnam time, through one path (motcua.i18n format_date /
format_datetime and the |date / |datetime filters): a payment at 00:40 on the 5th in Hà Nội
(17:40 UTC on the 4th) reads the 5th on the staff payment panel, the staff and citizen
timelines, the API and the development outbox. And no template or view formats a date by
hand (strftime, isoformat, slicing an ISO string), where the UTC day would slip through.

Real app on a TinyDB folder, the pages through the test client.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from pathlib import Path

from fixtures.workflow_kit import file_dossier, make_spec
from motcua import accounts
from motcua.dossier import Event
from tests.portal_helpers import REPO, csrf
from tests.test_portal_tracking import lookup

#: 00:40 on 5 December 2026 in Vietnam (UTC+7) is still the 4th in UTC
JUST_AFTER_MIDNIGHT = datetime(2026, 12, 4, 17, 40, tzinfo=timezone.utc)
VN_DAY, UTC_DAY = "05/12/2026", "04/12/2026"
from fixtures.workflow_kit import AGENCY  # noqa: E402  (the office the kit files with)


def paid_just_after_midnight(app) -> str:
    code = file_dossier(app, make_spec([{"name": "payment", "config": {"mode": "desk"}}, "review"]), fee=16000)
    paid = Event(at=JUST_AFTER_MIDNIGHT, actor="staff:lan", kind="paid", note="Đã thu 16.000 ₫ tại quầy, biên lai số BL-0040.",
                 data={"amount": 16000, "method": "desk", "receipt_no": "BL-0040"})
    app.extensions["motcua"].store.dossiers.update(code, lambda d: d.record(paid))
    return code


def staff_page(app, code: str) -> str:
    accounts.create_account(app.extensions["motcua"].store, "lan", "Nguyễn Thị Lan", ["desk"], [AGENCY], "Mk-khong-doan-2026")
    client = app.test_client()
    token = csrf(client.get("/staff/login").get_data(as_text=True))
    client.post("/staff/login", data={"username": "lan", "password": "Mk-khong-doan-2026", "csrf_token": token})
    return client.get(f"/staff/ho-so/{code}").get_data(as_text=True)


def test_the_staff_payment_panel_and_timeline_read_the_vietnamese_day(app):
    code = paid_just_after_midnight(app)
    page = staff_page(app, code)
    panel = page.split('class="panel panel-payment"', 1)[1].split("</section>", 1)[0]
    assert f"{VN_DAY}: " in panel and UTC_DAY not in panel
    assert f"00:40 {VN_DAY}" in page and f"17:40 {UTC_DAY}" not in page


def test_the_citizens_timeline_and_the_api_read_the_vietnamese_day(app):
    code = paid_just_after_midnight(app)
    client = app.test_client()
    assert lookup(client, code, "0912345678").status_code == 302
    page = client.get(f"/ho-so/{code}").get_data(as_text=True)
    assert f"00:40 {VN_DAY}" in page and f"17:40 {UTC_DAY}" not in page
    english = client.get(f"/ho-so/{code}?lang=en").get_data(as_text=True)
    assert "Dec 5, 2026, 12:40 AM" in english
    from motcua.web.api import FACTOR_HEADER

    status = client.get(f"/api/v1/dossiers/{code}", headers={FACTOR_HEADER: "0912345678"}).get_json()
    paid = next(entry for entry in status["timeline"] if entry["kind"] == "paid")
    assert paid["at"] == "2026-12-05T00:40:00+07:00"  # a client reading the date part gets the 5th
    assert status["filed_at"].endswith("+07:00")


def test_the_api_timeline_carries_vietnam_time(app):
    from motcua.i18n import iso_in_vietnam

    assert iso_in_vietnam(JUST_AFTER_MIDNIGHT) == "2026-12-05T00:40:00+07:00"
    assert iso_in_vietnam(JUST_AFTER_MIDNIGHT.replace(tzinfo=None)) == "2026-12-05T00:40:00+07:00"  # naive = UTC, as stored


def test_the_outbox_lists_messages_in_vietnam_time(app):
    from motcua.workflow.outbox import outbox_for

    code = file_dossier(app, make_spec(["review", "notify"]), fee=0)
    outbox = outbox_for(app.extensions["motcua"], app.config)
    listed = outbox.messages(code)
    assert listed, "filing queues a message"
    shown = app.test_client().get(f"/dev/outbox?code={code}").get_data(as_text=True)
    from motcua.i18n import format_datetime

    for message in listed:
        assert format_datetime(message["created_at"], "vi") in shown
        assert message["created_at"][:19] not in shown  # not the raw UTC stamp


#: How a hand-made date slips into a page: strftime, isoformat, or an ISO string cut short.
HAND_MADE = re.compile(r"strftime|isoformat|_at\[:\d+\]|\.at\[:\d+\]|date\[:\d+\]")


def test_no_template_formats_a_date_by_hand():
    folders = [REPO / "platform" / "motcua" / "templates", REPO / "plugins" / "templates", REPO / "renderers" / "templates"]
    offenders = [f"{path.relative_to(REPO)}:{n}: {line.strip()}"
                 for folder in folders for path in sorted(Path(folder).rglob("*.html"))
                 for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if HAND_MADE.search(line)]
    assert offenders == []
