"""Bounds on what one form post can make: repeating groups, form size, huge numbers.

A post is untrusted: every posted index used to become an item of a repeating group, and a
5000-digit whole number crashed int(). These tests post what a hostile client would.
"""

from __future__ import annotations

import copy
import json
import re

import pytest
from werkzeug.datastructures import MultiDict

from motcua import drafts
from motcua.catalogue import Catalogue
from motcua_renderers.form import MAX_REPEAT_ITEMS, RepeatFull, apply_repeat, parse_form, repeat_limit
from tests.portal_helpers import BIRTH_CODE, csrf

RESIDENCE = "1.004222"  # members: maxItems 20


@pytest.fixture
def spec(app):
    return app.extensions["motcua"].catalogue.get(RESIDENCE)


def member_keys(n: int, start: int = 0) -> MultiDict:
    return MultiDict({f"members.{i}.full_name": f"Người {i}" for i in range(start, start + n)})


def test_parsed_items_stop_at_max_items(spec):
    parsed = parse_form(spec, member_keys(500), ["members"])
    assert len(parsed["members"]) == 20
    assert parse_form(spec, member_keys(5, start=20), ["members"]).get("members", []) == []  # indexes >= 20 ignored


def test_without_max_items_the_hard_cap_applies(spec):
    unbounded = copy.deepcopy(spec.model_dump(by_alias=True, exclude_unset=True))
    del unbounded["form"]["fields"]["properties"]["members"]["maxItems"]
    spec2 = type(spec).model_validate(unbounded)
    assert len(parse_form(spec2, member_keys(MAX_REPEAT_ITEMS + 50), ["members"])["members"]) == MAX_REPEAT_ITEMS
    assert repeat_limit(spec2, "members") == MAX_REPEAT_ITEMS


def test_odd_indexes_are_ignored_not_crashing(spec):
    form = MultiDict({"members.².full_name": "x", "members." + "9" * 5000 + ".full_name": "y", "members.0.full_name": "Lan"})
    assert [m["full_name"] for m in parse_form(spec, form, ["members"])["members"]] == ["Lan"]


def test_add_another_refuses_past_max_items(spec):
    full = {"members": [{"full_name": f"N{i}"} for i in range(20)]}
    with pytest.raises(RepeatFull):
        apply_repeat(full, ("add", "members"), repeat_limit(spec, "members"))
    assert len(apply_repeat({"members": []}, ("add", "members"), 20)["members"]) == 1


def _draft(app, code: str) -> str:
    with app.app_context():
        store = app.extensions["motcua"].store
        token, _ = drafts.new(store.records("drafts"), app.extensions["motcua"].catalogue.get(code))
    return token


def _token(client, code: str) -> str:
    return csrf(client.get(f"/thu-tuc/{code}/nop").get_data(as_text=True))


def test_portal_add_button_on_a_full_group_says_so(app, client):
    token = _draft(app, RESIDENCE)
    url = f"/thu-tuc/{RESIDENCE}/nop/{token}/members"
    data = {**member_keys(20).to_dict(), "_add": "members", "csrf_token": _token(client, RESIDENCE)}
    response = client.post(url, data=data)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Chỉ được khai tối đa 20 mục." in page
    with app.app_context():
        saved = app.extensions["motcua"].store.records("drafts").get(token)
    assert len(saved["values"]["members"]) == 20


def test_portal_many_indexes_make_at_most_max_items(app, client):
    token = _draft(app, RESIDENCE)
    url = f"/thu-tuc/{RESIDENCE}/nop/{token}/members"
    data = {**member_keys(900).to_dict(), "csrf_token": _token(client, RESIDENCE)}
    client.post(url, data=data)
    with app.app_context():
        saved = app.extensions["motcua"].store.records("drafts").get(token)
    assert len(saved["values"]["members"]) == 20


def test_too_many_form_parts_is_refused(app, client):
    token = _draft(app, RESIDENCE)
    url = f"/thu-tuc/{RESIDENCE}/nop/{token}/members"
    data = {**member_keys(20_000).to_dict(), "csrf_token": _token(client, RESIDENCE)}
    assert client.post(url, data=data).status_code == 413
    data["f"] = (__import__("io").BytesIO(b"x"), "x.txt")  # the multipart path too
    assert client.post(url, data=data, content_type="multipart/form-data").status_code == 413
    with app.app_context():
        saved = app.extensions["motcua"].store.records("drafts").get(token)
    assert not (saved.get("values") or {}).get("members")


def test_an_oversized_draft_is_not_saved(app, client):
    token = _draft(app, RESIDENCE)
    url = f"/thu-tuc/{RESIDENCE}/nop/{token}/members"
    # 20 members x 4 fields of 3000 characters each: under the form limits, over the draft limit
    big = {f"members.{i}.{f}": "a" * 3000 for i in range(20) for f in ("full_name", "cccd", "birth_date", "relation")}
    big = dict(list(big.items())[:60])
    response = client.post(url, data={**big, "csrf_token": _token(client, RESIDENCE)})
    assert response.status_code == 413
    assert "quá dài" in response.get_data(as_text=True)
    with app.app_context():
        saved = app.extensions["motcua"].store.records("drafts").get(token)
    assert len(json.dumps(saved)) < 10_000


def test_a_5000_digit_number_is_a_field_error_not_a_crash(app, client):
    token = _draft(app, BIRTH_CODE)
    response = client.post(
        f"/thu-tuc/{BIRTH_CODE}/nop/{token}/copies",
        data={"extract_copies": "9" * 5000, "csrf_token": _token(client, BIRTH_CODE)},
    )
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert re.search(r'id="f-extract_copies-error"', page), "the error is next to the field"
    assert "9" * 5000 in page  # the value is kept


def test_an_oversized_text_form_is_called_a_form_not_a_file(app, client):
    token = _draft(app, RESIDENCE)
    url = f"/thu-tuc/{RESIDENCE}/nop/{token}/members"
    response = client.post(url, data={"members.0.full_name": "a" * 300_000, "csrf_token": _token(client, RESIDENCE)})
    assert response.status_code == 413
    html = response.get_data(as_text=True)
    # the words a reader sees in the page's main part (links elsewhere carry random tokens
    # that may spell "MB")
    shown = re.sub(r"<[^>]+>", " ", html[html.index("<main"):html.index("</main>")])
    assert "Thông tin gửi lên quá lớn" in shown and "Tệp" not in shown and "MB" not in shown
