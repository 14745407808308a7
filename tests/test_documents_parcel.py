"""The contents list of a result's parcel: a dossier returned by public post, booked with the
carrier simulator over real HTTP, the result attached; staff print the list and it names the
item number, the recipient's address, the result and what the post collects."""

from __future__ import annotations

import pytest

from fixtures.workflow_kit import file_dossier, make_spec
from tests.test_accounts_results import attach, staff_client
from tests.test_documents_forms import pdf_cells, pdf_words
from tests.test_postal import carrier, finish  # noqa: F401 - fixture
from tests.portal_helpers import small_pdf

pytestmark = pytest.mark.usefixtures("jobs_run_at_once")


def test_parcel_contents_list_for_a_result_by_post(app, carrier):
    store = app.extensions["motcua"].store
    code = file_dossier(app, make_spec(["review", "postal"], cod=True), delivery="postal", fee=16000)
    finish(app, code)
    staff = staff_client(app, "lan", ["desk", "specialist", "leader"])
    attach(staff, code, small_pdf("Giay khai sinh"), "Giấy khai sinh - Nguyễn Văn An.pdf")
    item = next(e.data["item_number"] for e in store.dossiers.get(code).events if e.kind == "shipment_booked")
    page = staff.get(f"/staff/ho-so/{code}").get_data(as_text=True)
    assert f"/staff/ho-so/{code}/danh-muc-buu-gui.pdf" in page
    pdf = staff.get(f"/staff/ho-so/{code}/danh-muc-buu-gui.pdf").data
    words = pdf_words(pdf)
    for said in ("DANH MỤC TÀI LIỆU TRONG BƯU GỬI", f"Mã hồ sơ: {code}", f"Số hiệu bưu gửi: {item}", "Người nhận: Nguyễn Văn An",
                 "12 Lý Thường Kiệt", "Phường Hồng Bàng", "Bưu điện thu hộ phí, lệ phí: 16.000", "NHÂN VIÊN BƯU CHÍNH"):
        assert said in words, said
    rows = [r for r in pdf_cells(pdf) if r[0].isdigit()]
    assert rows[0][2] == "Bản chính" and rows[1][1] == "Giấy khai sinh - Nguyễn Văn An.pdf" and len(rows) == 2
    assert "CONTENTS OF THE POSTAL ITEM" in pdf_words(staff.get(f"/staff/ho-so/{code}/danh-muc-buu-gui.pdf?lang=en").data)


def test_no_contents_list_without_postal_delivery(app):
    code = file_dossier(app, make_spec(["review"]), delivery="desk", fee=0)
    staff = staff_client(app, "lan", ["desk"])
    assert "danh-muc-buu-gui" not in staff.get(f"/staff/ho-so/{code}").get_data(as_text=True)
    assert staff.get(f"/staff/ho-so/{code}/danh-muc-buu-gui.pdf").status_code == 404
