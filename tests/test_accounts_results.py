"""Electronic results: staff attach the result PDF to a decided dossier; its owner downloads
exactly that file from "My dossiers"; the timeline says who attached what; nobody else
reaches it. Real app, real simulator, real staff login."""

from __future__ import annotations

import io
import re

import pytest

from motcua import accounts
from tests.identity_helpers import idp, oidc_app, sign_in  # noqa: F401 - fixtures
from tests.portal_helpers import csrf, small_pdf
from tests.test_accounts_dossiers import AN, file_birth

PASSWORD = "mat-khau-thu-nghiem-dai"
AGENCY = "000.06.50.H15"  # Phường Hải Châu (shipped registry)


def staff_client(app, username: str, roles: list[str], agency: str = AGENCY):
    accounts.create_account(app.extensions["motcua"].store, username, "Nguyễn Thị Lan", roles, [agency], PASSWORD)
    client = app.test_client()
    token = csrf(client.get("/staff/login").get_data(as_text=True))
    assert client.post("/staff/login", data={"username": username, "password": PASSWORD, "csrf_token": token}).status_code == 302
    return client


def decided(app, code: str) -> None:
    store, engine = app.extensions["motcua"].store, app.extensions["motcua"].engine
    user = accounts.get_account(store, "lan")
    engine.perform(code, "receive", user)
    engine.perform(code, "process", user)
    engine.perform(code, "propose", user, opinion="Đủ điều kiện.", proposal="approve", draft_text="Dự thảo kết quả.")
    engine.perform(code, "approve", user)


def attach(staff, code: str, data: bytes, name: str = "Giấy khai sinh.pdf"):
    page = staff.get(f"/staff/ho-so/{code}").get_data(as_text=True)
    return staff.post(f"/staff/ho-so/{code}/ket-qua", content_type="multipart/form-data",
                      data={"csrf_token": csrf(page), "result": (io.BytesIO(data), name)}, follow_redirects=True)


def test_owner_downloads_exactly_the_attached_result_and_nobody_else_can(oidc_app):
    store = oidc_app.extensions["motcua"].store
    an = oidc_app.test_client()
    sign_in(an, "demo-citizen-an")
    code = file_birth(an, AN, copies="0")
    staff = staff_client(oidc_app, "lan", ["desk", "specialist", "leader"])
    assert 'action="/staff/ho-so/' + code + '/ket-qua"' not in staff.get(f"/staff/ho-so/{code}").get_data(as_text=True)
    decided(oidc_app, code)
    pdf = small_pdf("Giay khai sinh - ban dien tu")
    assert "Đã đính kèm kết quả điện tử" in attach(staff, code, pdf).get_data(as_text=True)

    event = [e for e in store.dossiers.get(code).events if e.kind == "result_attached"][-1]
    assert event.actor == "staff:lan" and event.data["filename"] == "Giấy khai sinh.pdf" and event.data["size"] == len(pdf)

    page = an.get("/ho-so-cua-toi").get_data(as_text=True)
    link = re.search(rf'href="(/ho-so/{re.escape(code)}/ket-qua/[0-9a-f]+)" data-result-link', page).group(1)
    download = an.get(link)
    assert download.status_code == 200 and download.data == pdf
    assert "Giay-khai-sinh.pdf" in download.headers["Content-Disposition"]
    assert download.headers["Cache-Control"] == "private, no-store"
    assert [r for _k, r in store.records("result_downloads").all()][0]["code"] == code
    assert "Đính kèm kết quả điện tử" in an.get(f"/ho-so/{code}").get_data(as_text=True)  # the timeline

    binh = oidc_app.test_client()
    sign_in(binh, "demo-citizen-binh")
    assert binh.get(link).status_code == 404
    assert oidc_app.test_client().get(link).status_code == 404  # anonymous
    from motcua.tracking import private_link_path

    holder = oidc_app.test_client()  # the receipt's private link opens the result too
    assert holder.get(private_link_path(oidc_app.secret_key, code)).status_code == 303
    assert holder.get(link).data == pdf
    assert an.get(link[:-8] + "00000000").status_code == 404  # not a result of this dossier
    other_agency = staff_client(oidc_app, "khanh", ["desk"], agency="000.00.99.H99")
    assert other_agency.get(f"/staff/ho-so/{code}/ket-qua/{event.data['file_id']}").status_code == 404
    assert staff.get(f"/staff/ho-so/{code}/ket-qua/{event.data['file_id']}").data == pdf


def test_result_must_be_a_pdf_and_the_dossier_decided(oidc_app):
    store = oidc_app.extensions["motcua"].store
    code = file_birth(oidc_app.test_client(), AN, copies="0")
    staff = staff_client(oidc_app, "lan", ["desk", "specialist", "leader"])
    assert "đã có kết quả giải quyết" in attach(staff, code, small_pdf()).get_data(as_text=True)
    decided(oidc_app, code)
    refused = attach(staff, code, b"MZ\x90\x00 not a pdf", "ket-qua.pdf").get_data(as_text=True)
    assert "Đã đính kèm" not in refused
    assert not [e for e in store.dossiers.get(code).events if e.kind == "result_attached"]


@pytest.mark.parametrize("roles", [["desk"], ["author"]])
def test_desk_or_author_serving_the_office_cannot_attach_the_result(oidc_app, roles):
    """A desk clerk or an author account serving the office does not issue the official
    result: no form, and a forged post is refused with nothing stored."""
    store = oidc_app.extensions["motcua"].store
    code = file_birth(oidc_app.test_client(), AN, copies="0")
    leader = staff_client(oidc_app, "lan", ["desk", "specialist", "leader"])
    decided(oidc_app, code)
    clerk = staff_client(oidc_app, "clerk", roles)
    page = clerk.get(f"/staff/ho-so/{code}")
    assert page.status_code == 200
    assert f'action="/staff/ho-so/{code}/ket-qua"' not in page.get_data(as_text=True)
    forged = clerk.post(f"/staff/ho-so/{code}/ket-qua", content_type="multipart/form-data",
                        data={"csrf_token": csrf(page.get_data(as_text=True)), "sign": "1",
                              "result": (io.BytesIO(small_pdf()), "ket-qua.pdf")})
    assert forged.status_code == 403
    assert not [e for e in store.dossiers.get(code).events if e.kind == "result_attached"]
    assert f'action="/staff/ho-so/{code}/ket-qua"' in leader.get(f"/staff/ho-so/{code}").get_data(as_text=True)
    assert "Đã đính kèm kết quả điện tử" in attach(leader, code, small_pdf()).get_data(as_text=True)
    assert [e for e in store.dossiers.get(code).events if e.kind == "result_attached"]
