"""Forms 02-06 of Circular 01/2018/TT-VPCP for real dossiers filed through the app: staff act
through the engine, download each form from the back office (and the citizen theirs from the
dossier page), and the PDF's extracted text (pdfplumber) says what the form must say, in
Vietnamese and English. The register of this month reconciles with the statistics."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pdfplumber
import pytest

from motcua import accounts, issued
from motcua.stats.period import month, vn_today
from motcua.stats.source import build_report
from tests.portal_helpers import csrf
from tests.test_accounts_dossiers import AN, file_birth
from tests.test_accounts_results import staff_client

BINH = {**AN, "requester.full_name": "Trần Thị Bình", "requester.cccd": "001185012346", "requester.phone": "0987654321"}


def pdf_words(data: bytes) -> str:
    """The PDF's text as one line: words joined by single spaces (table cells wrap)."""
    assert data.startswith(b"%PDF-")
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        return re.sub(r"\s+", " ", "\n".join(page.extract_text() or "" for page in pdf.pages))


def pdf_cells(data: bytes) -> list[list[str]]:
    """Every table row of the PDF, each cell's wrapped lines joined by spaces."""
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        return [[re.sub(r"\s+", " ", c or "").strip() for c in row]
                for page in pdf.pages for table in page.extract_tables() for row in table]


def form_links(html: str, where: str = "staff") -> dict[str, str]:
    prefix = r"/staff/ho-so/[^\"]+/mau/" if where == "staff" else r"/ho-so/[^\"]+/van-ban/"
    return {name: link.replace("&amp;", "&") for link, name in re.findall(rf'href="({prefix}[^"]+)" data-form="([a-z_]+)"', html)}


@pytest.fixture
def staff(app):
    return staff_client(app, "lan", ["desk", "specialist", "leader"])


def perform(app, code: str, action: str, **params):
    engine, store = app.extensions["motcua"].engine, app.extensions["motcua"].store
    return engine.perform(code, action, accounts.get_account(store, "lan"), **params)


def test_form_02_lists_everything_missing_once_with_the_officer(app, staff):
    citizen = app.test_client()
    code = file_birth(citizen, AN, copies="0")
    perform(app, code, "request_supplement", reason="Giấy chứng sinh bị mờ, không đọc được",
            missing=["Bản chụp rõ nét giấy chứng sinh", "Số điện thoại của mẹ"], components=["giay_chung_sinh"])
    links = form_links(staff.get(f"/staff/ho-so/{code}").get_data(as_text=True))
    assert set(links) == {"supplement_request", "control_sheet"}
    vi = pdf_words(staff.get(links["supplement_request"]).data)
    for said in ("Mẫu số 02", "PHIẾU YÊU CẦU BỔ SUNG, HOÀN THIỆN HỒ SƠ", f"Mã hồ sơ: {code}", "Ông/Bà: Nguyễn Văn An",
                 "Bản chụp rõ nét giấy chứng sinh", "Số điện thoại của mẹ", "Nộp lại: Giấy chứng sinh",
                 "Lý do: Giấy chứng sinh bị mờ, không đọc được", "Căn cứ pháp lý:", "Luật Hộ tịch",
                 "được thông báo đầy đủ trong một lần", "Nguyễn Thị Lan", "Đăng ký khai sinh"):
        assert said in vi, said
    en = pdf_words(staff.get(links["supplement_request"] + "?lang=en").data)
    for said in ("Form 02", "REQUEST TO SUPPLEMENT", f"Dossier code: {code}", "Bản chụp rõ nét giấy chứng sinh",
                 "Reason: Giấy chứng sinh bị mờ", "Nguyễn Thị Lan", "SOCIALIST REPUBLIC OF VIETNAM"):
        assert said in en, said
    assert "PHIẾU YÊU CẦU" not in en

    # the citizen gets the same form from the dossier page; someone else gets nothing
    mine = form_links(citizen.get(f"/ho-so/{code}").get_data(as_text=True), "citizen")
    assert set(mine) == {"supplement_request"}
    assert "Số điện thoại của mẹ" in pdf_words(citizen.get(mine["supplement_request"]).data)
    assert app.test_client().get(mine["supplement_request"]).status_code in (302, 303, 404)
    assert staff.get(links["supplement_request"].replace("supplement_request", "refusal")).status_code == 404
    assert staff.get(re.sub(r"/\d+\.pdf$", "/0.pdf", links["supplement_request"])).status_code == 404  # not that event


def test_form_03_at_intake_and_after_processing(app, staff):
    citizen = app.test_client()
    code = file_birth(citizen, AN, copies="0")
    perform(app, code, "refuse", reason="Hồ sơ không thuộc thẩm quyền giải quyết của UBND xã")
    link = form_links(citizen.get(f"/ho-so/{code}").get_data(as_text=True), "citizen")["refusal"]
    vi = pdf_words(citizen.get(link).data)
    for said in ("Mẫu số 03", "PHIẾU TỪ CHỐI TIẾP NHẬN, GIẢI QUYẾT HỒ SƠ", f"Mã hồ sơ: {code}",
                 "thông báo không thể tiếp nhận hồ sơ", "Hồ sơ không thuộc thẩm quyền giải quyết của UBND xã", "Nguyễn Thị Lan"):
        assert said in vi, said
    en = pdf_words(citizen.get(link + "?lang=en").data)
    assert "REFUSAL" in en and "cannot receive" in en

    second = file_birth(citizen, BINH, copies="0")
    for action in ("receive", "process"):
        perform(app, second, action)
    perform(app, second, "propose", opinion="Không đủ điều kiện.", proposal="refuse",
            refusal_reason="Người yêu cầu không có quan hệ với trẻ")
    perform(app, second, "reject", reason="Người yêu cầu không có quan hệ với trẻ")
    links = form_links(staff.get(f"/staff/ho-so/{second}").get_data(as_text=True))
    vi = pdf_words(staff.get(links["refusal"]).data)
    assert "thông báo không thể giải quyết hồ sơ" in vi and "Người yêu cầu không có quan hệ với trẻ" in vi


def test_form_04_apology_with_the_old_and_new_dates(app, staff):
    citizen = app.test_client()
    code = file_birth(citizen, AN, copies="0")
    for action in ("receive", "process"):
        perform(app, code, action)
    store, engine = app.extensions["motcua"].store, app.extensions["motcua"].engine
    old_due = store.dossiers.get(code).due_date
    new_due = engine.calendar.add_working_days(old_due, 3)
    perform(app, code, "apologize", reason="Cần xác minh thông tin nơi sinh với bệnh viện", new_due_date=new_due.isoformat())
    link = form_links(citizen.get(f"/ho-so/{code}").get_data(as_text=True), "citizen")["apology"]
    vi = pdf_words(citizen.get(link).data)
    for said in ("Mẫu số 04", "PHIẾU XIN LỖI VÀ HẸN LẠI NGÀY TRẢ KẾT QUẢ", f"Mã hồ sơ: {code}",
                 f"Thời gian hẹn trả kết quả giải quyết hồ sơ: {old_due:%d/%m/%Y}", f"vào ngày {new_due:%d/%m/%Y}",
                 "Lý do: Cần xác minh thông tin nơi sinh với bệnh viện", "THỦ TRƯỞNG CƠ QUAN, ĐƠN VỊ"):
        assert said in vi, said
    en = pdf_words(citizen.get(link + "?lang=en").data)
    assert "APOLOGY" in en and "HEAD OF THE AGENCY" in en


def test_form_05_one_line_per_hand_over(app, staff):
    citizen = app.test_client()
    code = file_birth(citizen, AN, copies="0")
    perform(app, code, "receive")
    perform(app, code, "process", transfer_to="Công chức tư pháp - hộ tịch")
    perform(app, code, "transfer", transfer_to="Công chức văn hóa - xã hội")
    perform(app, code, "propose", opinion="Đủ điều kiện.", proposal="approve", draft_text="Dự thảo trích lục.")
    perform(app, code, "approve")
    perform(app, code, "return_result")
    link = form_links(staff.get(f"/staff/ho-so/{code}").get_data(as_text=True))["control_sheet"]
    pdf = staff.get(link).data
    vi = pdf_words(pdf)
    for said in ("Mẫu số 05", "PHIẾU KIỂM SOÁT QUÁ TRÌNH GIẢI QUYẾT HỒ SƠ", f"Mã hồ sơ: {code}"):
        assert said in vi, said
    rows = [r for r in pdf_cells(pdf) if r[0].isdigit()]
    desk, tu_phap, van_hoa, lanh_dao = ("Bộ phận tiếp nhận và trả kết quả", "Công chức tư pháp - hộ tịch",
                                        "Công chức văn hóa - xã hội", "Lãnh đạo cơ quan")
    assert [(r[0], r[1], r[2]) for r in rows] == [
        ("1", "Người nộp hồ sơ", desk), ("2", desk, tu_phap), ("3", tu_phap, van_hoa), ("4", van_hoa, lanh_dao),
        ("5", lanh_dao, desk), ("6", desk, "Người nộp hồ sơ")]
    assert all(r[5] in ("Trước hạn", "Đúng hạn") for r in rows)  # none late
    assert "Trình ý kiến xử lý" in rows[3][6]
    assert "Phê duyệt kết quả" in rows[4][6] and "Nguyễn Thị Lan" in rows[4][6] and "Trả kết quả" in rows[5][6]
    en = pdf_cells(staff.get(link + "?lang=en").data)
    assert en[0][:3] == ["TT", "Handed over by", "Received by"] or en[0][1] == "Handed over by"
    assert "PROCESSING CONTROL SHEET" in pdf_words(staff.get(link + "?lang=en").data)


def test_form_06_register_of_the_month_reconciles_with_the_statistics(app, staff):
    citizen = app.test_client()
    first = file_birth(citizen, AN, copies="0")
    second = file_birth(citizen, BINH, copies="0")
    refused = file_birth(citizen, AN, copies="0")
    perform(app, refused, "refuse", reason="Sai thẩm quyền")  # never received: in neither
    for action in ("receive", "process"):
        perform(app, first, action)
    perform(app, first, "propose", opinion="Đủ điều kiện.", proposal="approve", draft_text="Dự thảo trích lục.")
    perform(app, first, "approve")
    today = vn_today()
    args = {"agency": "000.06.50.H15", "year": today.year, "month": today.month}
    page = staff.get("/staff/so-theo-doi", query_string=args).get_data(as_text=True)
    assert first in page and second in page and refused not in page

    data = staff.get("/staff/so-theo-doi", query_string={**args, "format": "csv"})
    assert data.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(data.data.decode("utf-8-sig"))))
    assert rows[0][:3] == ["STT", "Mã hồ sơ", "Tên thủ tục hành chính"]
    body = {r[1]: r for r in rows[1:]}
    assert set(body) == {first, second}
    assert body[first][2] == "Đăng ký khai sinh" and body[first][4] == "Nguyễn Văn An"
    assert body[first][12] == "Có kết quả giải quyết" and "Trực tuyến" in body[first][13]

    store = app.extensions["motcua"].store
    report = build_report(store, app.extensions["motcua"].catalogue, period=month(today.year, today.month),
                          agencies=["000.06.50.H15"], today=today, calendar=app.extensions["motcua"].engine.calendar)
    assert report.totals.received == len(rows) - 1 == 2
    assert report.totals.online == sum(1 for r in rows[1:] if "Trực tuyến" in r[13])
    assert report.totals.settled == sum(1 for r in rows[1:] if r[10])  # decided this month
    assert report.totals.refused_at_intake == 1

    pdf = staff.get("/staff/so-theo-doi", query_string={**args, "format": "pdf"})
    words = pdf_words(pdf.data)
    for said in ("Mẫu số 06", "SỔ THEO DÕI HỒ SƠ", f"Tháng {today.month}/{today.year}", "Tổng số hồ sơ tiếp nhận trong kỳ: 2"):
        assert said in words, said
    printed = [r for r in pdf_cells(pdf.data) if r[0].isdigit()]
    assert [(r[0], r[1].replace(" ", ""), r[4]) for r in printed] == [(r[0], r[1], r[4]) for r in rows[1:]]  # as the CSV
    en = pdf_words(staff.get("/staff/so-theo-doi", query_string={**args, "format": "pdf", "lang": "en"}).data)
    assert "DOSSIER REGISTER" in en and "Dossiers received in the period: 2" in en

    last = today.replace(day=1) - timedelta(days=1)  # last month: nothing received then
    empty = staff.get("/staff/so-theo-doi", query_string={**args, "year": last.year, "month": last.month, "format": "csv"})
    assert len(list(csv.reader(io.StringIO(empty.data.decode("utf-8-sig"))))) == 1
    assert staff.get("/staff/so-theo-doi", query_string={**args, "month": "13"}).status_code == 302  # clear error, no 500
    assert staff.get("/staff/so-theo-doi", query_string={**args, "agency": "000.00.99.H99"}).status_code == 404


def test_issued_forms_are_kept_with_the_dossier_as_issued(app, staff, tmp_path):
    """Printed when the workflow issues them and stored: a later template change does not
    change the form already handed out (the other language is drawn on demand)."""
    citizen = app.test_client()
    code = file_birth(citizen, AN, copies="0")
    perform(app, code, "request_supplement", reason="Thiếu giấy tờ", missing=["Bản chụp giấy chứng sinh"])
    store = app.extensions["motcua"].store
    dossier = store.dossiers.get(code)
    assert dossier.events[-1].kind == "supplement_requested"  # the timeline gets no event of its own
    copies = issued.kept(dossier)
    assert len(copies) == 1
    index, copy = next(iter(copies.items()))
    assert copy["form"] == "supplement_request" and copy["lang"] == "vi" and dossier.events[index].kind == "supplement_requested"
    stored = store.files.read(copy["file_id"])
    assert "Bản chụp giấy chứng sinh" in pdf_words(stored)
    from motcua.purge import dossier_file_ids

    assert copy["file_id"] in set(dossier_file_ids(dossier))  # purge keeps it

    overrides = tmp_path / "templates"
    overrides.mkdir()
    (overrides / "supplement_request.html").write_text(
        '{% extends "motcua/supplement_request.html" %}{% block body %}MẪU MỚI{{ super() }}{% endblock %}', encoding="utf-8")
    app.config["DOCUMENT_TEMPLATES_DIR"] = str(overrides)
    link = form_links(citizen.get(f"/ho-so/{code}").get_data(as_text=True), "citizen")["supplement_request"]
    assert citizen.get(link).data == stored  # the form as it was issued
    assert "MẪU MỚI" in pdf_words(citizen.get(link + "?lang=en").data)  # another language: drawn now
    perform(app, code, "refuse", reason="Không bổ sung")  # the next form is kept too, once each
    forms = [c["form"] for _i, c in sorted(issued.kept(store.dossiers.get(code)).items())]
    assert forms == ["supplement_request", "refusal"]
