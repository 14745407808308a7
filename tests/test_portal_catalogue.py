"""Finding and reading a procedure: the catalogue and the information page."""

from __future__ import annotations

import re

import pytest

from motcua.app import create_app
from motcua.search import Filters, fold, search
from tests.portal_helpers import BIRTH_CODE, birth_spec, write_spec


def titles(html: str) -> list[str]:
    return re.findall(r"<h3><a [^>]*>([^<]*)</a></h3>", html)


def test_fold_ignores_diacritics_case_and_d_stroke():
    assert fold("Đăng  ký KẾT hôn") == "dang ky ket hon"


def test_search_without_diacritics_finds_the_procedure(client):
    html = client.get("/?q=dang+ky+khai+sinh").get_data(as_text=True)
    assert "Đăng ký khai sinh" in titles(html)
    html = client.get("/?q=DANG KY KHAI SINH").get_data(as_text=True)
    assert titles(html)[0] == "Đăng ký khai sinh"


def test_search_by_code_and_keyword(client):
    assert "Đăng ký khai sinh" in titles(client.get(f"/?q={BIRTH_CODE}").get_data(as_text=True))
    assert "Đăng ký khai sinh" in titles(client.get("/?q=sinh con").get_data(as_text=True))
    assert titles(client.get("/?q=khong+co+thu+tuc+nay+xyz").get_data(as_text=True)) == []


def test_filters_are_get_parameters_and_counts_per_level_are_shown(client):
    html = client.get("/?level=4&tier=commune&filer=citizen&life_event=khai-sinh").get_data(as_text=True)
    assert "Đăng ký khai sinh" in titles(html)
    assert "Đăng ký khai sinh" not in titles(client.get("/?level=3").get_data(as_text=True))
    assert "Đăng ký khai sinh" not in titles(client.get("/?tier=province").get_data(as_text=True))
    assert "Đăng ký khai sinh" in titles(client.get("/?sector=Hộ tịch").get_data(as_text=True))
    counts = dict(re.findall(r'data-level-count="(\d)">(\d+)<', client.get("/?q=khai sinh").get_data(as_text=True)))
    assert int(counts["4"]) >= 1


def test_search_function_ranks_name_phrase_first(app):
    with app.app_context():
        specs = list(app.extensions["motcua"].catalogue)
    found = search(specs, Filters(q="khai sinh"))
    assert found[0].code == BIRTH_CODE


def test_info_page_shows_what_level_4_offers(client):
    html = client.get(f"/thu-tuc/{BIRTH_CODE}").get_data(as_text=True)
    for text in ("Trình tự thực hiện", "Thành phần hồ sơ", "Giấy chứng sinh", "Bản chính", "Căn cứ pháp lý",
                 "60/2014/QH13", "Lệ phí", "Phí", "Miễn lệ phí khi đăng ký khai sinh đúng hạn",
                 "Cách thức thực hiện", "Qua bưu chính công ích", "Ủy ban nhân dân cấp xã", "Nộp hồ sơ trực tuyến",
                 "Giấy khai sinh (bản chính)", "Trong ngày làm việc"):
        assert text in html, text
    assert f"/thu-tuc/{BIRTH_CODE}/mau.pdf" in html


def test_unknown_procedure_is_a_friendly_404(client):
    response = client.get("/thu-tuc/9.999999")
    assert response.status_code == 404
    assert "Không tìm thấy trang" in response.get_data(as_text=True)


def test_english_via_lang_parameter_and_cookie(client):
    html = client.get(f"/thu-tuc/{BIRTH_CODE}?lang=en").get_data(as_text=True)
    assert '<html lang="en">' in html and "Birth registration" in html and "File online" in html
    html = client.get("/").get_data(as_text=True)  # the cookie remembers
    assert '<html lang="en">' in html


def _spec_levels(tmp_path, level, with_form=True):
    data = birth_spec()
    data["level"] = level
    if not with_form:
        for key in ("form", "steps", "fees", "attachments", "delivery", "computed"):
            data.pop(key)
        data["channels"] = [{"kind": "desk"}, {"kind": "postal"}]
    write_spec(tmp_path / "specs", "p", data)
    app = create_app({"DATA_DIR": str(tmp_path / "data"), "SPECS_DIR": str(tmp_path / "specs"), "TESTING": True})
    return app.test_client()


def test_level_1_page_has_information_only(tmp_path):
    client = _spec_levels(tmp_path, 1, with_form=False)
    html = client.get(f"/thu-tuc/{BIRTH_CODE}").get_data(as_text=True)
    assert "Trình tự thực hiện" in html
    assert "Nộp hồ sơ trực tuyến" not in html and "mau.pdf" not in html
    assert client.get(f"/thu-tuc/{BIRTH_CODE}/nop").status_code == 404
    assert client.get(f"/thu-tuc/{BIRTH_CODE}/mau.pdf").status_code == 404


def test_spec_text_is_escaped(tmp_path):
    data = birth_spec()
    data["name"] = {"vi": "<script>alert(1)</script> Khai sinh"}
    write_spec(tmp_path / "specs", "x", data)
    client = create_app({"DATA_DIR": str(tmp_path / "d"), "SPECS_DIR": str(tmp_path / "specs"), "TESTING": True}).test_client()
    for url in ("/", f"/thu-tuc/{BIRTH_CODE}", f"/thu-tuc/{BIRTH_CODE}/nop"):
        html = client.get(url).get_data(as_text=True)
        assert "<script>alert(1)</script>" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_broken_spec_is_left_out_and_the_rest_serve(tmp_path, caplog):
    write_spec(tmp_path / "specs", "good", birth_spec())
    (tmp_path / "specs" / "broken.yaml").write_text("code: [unclosed\n", encoding="utf-8")
    with caplog.at_level("ERROR"):
        app = create_app({"DATA_DIR": str(tmp_path / "d"), "SPECS_DIR": str(tmp_path / "specs"), "TESTING": True})
    assert "broken.yaml" in caplog.text
    assert app.test_client().get(f"/thu-tuc/{BIRTH_CODE}").status_code == 200
