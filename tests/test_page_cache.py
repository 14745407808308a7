"""Pages drawn once and kept (motcua.web.page_cache) never hand one visitor another's CSRF
token or message, and change with the language, the address and the catalogue."""

from __future__ import annotations

import re

from flask import flash

from motcua.catalogue import Catalogue
from motcua.web import page_cache
from tests.portal_helpers import BIRTH_CODE, birth_spec, csrf, write_spec

FORM = f"/thu-tuc/{BIRTH_CODE}/nop"


def test_each_visitor_gets_a_token_of_their_own_from_the_kept_form_page(app):
    first, second = app.test_client(), app.test_client()
    page_one = first.get(FORM).get_data(as_text=True)
    page_two = second.get(FORM).get_data(as_text=True)  # from the kept page
    assert csrf(page_one) != csrf(page_two)
    assert "motcua-csrf" not in page_two and "\x1e" not in page_two
    # the same page but for the token: it was kept, not drawn again
    assert page_one.replace(csrf(page_one), "T") == page_two.replace(csrf(page_two), "T")
    # and each token works for its own visitor only
    first_step = re.search(r'<form[^>]+action="([^"]*)"', page_two)
    assert first_step is not None
    refused = first.post(FORM, data={"csrf_token": csrf(page_two)})
    assert refused.status_code == 400
    accepted = second.post(FORM, data={"csrf_token": csrf(page_two)})
    assert accepted.status_code in (200, 302)


def test_language_and_address_are_part_of_what_is_kept(client):
    vi = client.get(f"/thu-tuc/{BIRTH_CODE}").get_data(as_text=True)
    en = client.get(f"/thu-tuc/{BIRTH_CODE}?lang=en").get_data(as_text=True)
    assert '<html lang="vi">' in vi and '<html lang="en">' in en
    assert "Birth registration" in en and "Birth registration" not in vi
    assert client.get(f"/thu-tuc/{BIRTH_CODE}?lang=vi").get_data(as_text=True).count('<html lang="vi">') == 1


def test_a_flashed_message_is_shown_once_and_never_kept(app):
    @app.get("/_flash_then_form")
    def _flash_then_form():
        flash("Tin nhắn riêng cho một người", "error")
        return "ok"

    client = app.test_client()
    client.get(FORM)  # the page is kept
    client.get("/_flash_then_form")
    assert "Tin nhắn riêng cho một người" in client.get(FORM).get_data(as_text=True)
    assert "Tin nhắn riêng cho một người" not in client.get(FORM).get_data(as_text=True)
    assert "Tin nhắn riêng cho một người" not in app.test_client().get(FORM).get_data(as_text=True)


def test_a_new_catalogue_starts_with_nothing_kept(app, tmp_path):
    client = app.test_client()
    assert "Đăng ký khai sinh" in client.get(f"/thu-tuc/{BIRTH_CODE}").get_data(as_text=True)
    assert "Đăng ký khai sinh" in client.get("/").get_data(as_text=True)
    renamed = birth_spec()
    renamed["name"] = {"vi": "Khai sinh (tên mới)", "en": "Birth (new name)"}
    write_spec(tmp_path / "specs", "b", renamed)
    app.extensions["motcua"].catalogue = Catalogue.from_folder(tmp_path / "specs")
    assert "Khai sinh (tên mới)" in client.get(f"/thu-tuc/{BIRTH_CODE}").get_data(as_text=True)
    assert "Khai sinh (tên mới)" in client.get("/").get_data(as_text=True)


def test_kept_pages_are_bounded(app, monkeypatch):
    monkeypatch.setitem(page_cache.SIZES, "page", 8)  # sizes are read when a catalogue's caches are made
    client = app.test_client()
    for i in range(20):
        client.get(f"/thu-tuc/{BIRTH_CODE}?x={i}")
    caches = page_cache._CACHES[app.extensions["motcua"].catalogue]
    assert len(caches["page"].items) == 8
    assert (f"/thu-tuc/{BIRTH_CODE}", b"x=19", "vi", BIRTH_CODE) in caches["page"].items  # the latest kept


def test_a_kept_page_carries_this_responses_script_nonce(app):
    from motcua.web.headers import csp_nonce

    def render() -> str:
        return f'<script nonce="{csp_nonce()}">1</script>'

    with app.test_request_context("/thu-tuc/x"):
        app.preprocess_request()
        first = page_cache.page("nonce-test", render)
        assert first == f'<script nonce="{csp_nonce()}">1</script>'
    with app.test_request_context("/thu-tuc/x"):
        app.preprocess_request()
        kept = page_cache.page("nonce-test", lambda: "drawn again")  # not drawn again: kept
        assert kept == f'<script nonce="{csp_nonce()}">1</script>'.encode() and kept != first.encode()


def test_a_search_is_kept_per_query_and_never_pushes_other_pages_out(app, monkeypatch):
    monkeypatch.setitem(page_cache.SIZES, "search", 4)
    client = app.test_client()
    client.get(f"/thu-tuc/{BIRTH_CODE}")  # a procedure page, kept
    birth = client.get("/?q=khai+sinh").get_data(as_text=True)
    assert "Đăng ký khai sinh" in birth
    other = app.test_client().get("/?q=khai+tu").get_data(as_text=True)  # another query: its own page
    assert "Đăng ký khai sinh" not in other and 'value="khai tu"' in other
    for i in range(10):  # many different searches
        client.get(f"/?q=giay+{i}")
    caches = page_cache._CACHES[app.extensions["motcua"].catalogue]
    assert len(caches["search"].items) == 4
    assert (f"/thu-tuc/{BIRTH_CODE}", b"", "vi", BIRTH_CODE) in caches["page"].items  # still kept
    assert app.test_client().get("/?q=khai+sinh").get_data(as_text=True) == birth  # the same page again


def test_a_kept_page_is_answered_as_the_bytes_drawn_with_this_visitors_token(app):
    first, second = app.test_client(), app.test_client()
    drawn = first.get(FORM).get_data()
    kept = second.get(FORM).get_data()
    assert kept.decode() == drawn.decode().replace(csrf(drawn.decode()), csrf(kept.decode()))
    assert "Họ, chữ đệm, tên" in kept.decode()  # UTF-8 intact through the cut pieces


def test_the_office_list_writes_the_shared_hours_once(client):
    html = client.get(f"/thu-tuc/{BIRTH_CODE}").get_data(as_text=True)
    select = re.search(r"<select name=\"co_quan\"[^>]*>(.*?)</select>", html, re.S)
    assert select is not None
    assert re.search(r'<select name="co_quan"[^>]*data-hours="[^"]*7:30', html)  # on the list, once
    options = re.findall(r"<option value=\"[^\"]+\"[^>]*>", select.group(1))
    assert len(options) == 94
    assert not any("data-hours" in o for o in options)  # every commune keeps the shared hours
    assert 'data-phone=""' not in select.group(1)
