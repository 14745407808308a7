"""The catalogue's kept frame (motcua.web.page_cache.frame): a new search draws only its
results and puts the visitor's query back in, escaped for each place it goes; the filter
panel lists the chosen tier's offices only, and still filters by office without JavaScript."""

from __future__ import annotations

import html
import re
from urllib.parse import parse_qs, urlsplit

from motcua.web import page_cache
from tests.portal_helpers import BIRTH_CODE

HAI_CHAU = "000.06.50.H15"


def _frames(app):
    return page_cache._CACHES[app.extensions["motcua"].catalogue]["frame"].items


def test_a_new_query_reuses_the_frame_and_draws_its_own_results(app):
    client = app.test_client()
    birth = client.get("/?q=khai+sinh").get_data(as_text=True)
    assert len(_frames(app)) == 1
    death = client.get("/?q=khai+tu").get_data(as_text=True)
    assert len(_frames(app)) == 1  # the same frame: only the query differs
    assert f'href="/thu-tuc/{BIRTH_CODE}"' in birth and f'href="/thu-tuc/{BIRTH_CODE}"' not in death
    assert 'value="khai sinh"' in birth and 'value="khai tu"' in death
    assert "motcua" + "query" not in birth and "motcuaresults" not in death  # no mark left
    # the same page as one drawn whole, without a kept frame or page
    _frames(app).clear()
    page_cache._CACHES[app.extensions["motcua"].catalogue]["search"].items.clear()
    assert app.test_client().get("/?q=khai+tu").get_data(as_text=True) == death
    assert len(_frames(app)) == 1
    # another language, another frame
    assert '<html lang="en">' in client.get("/?q=khai+tu&lang=en").get_data(as_text=True)
    assert [key[0] for key in _frames(app)] == ["vi", "en"]


def test_the_query_is_escaped_in_the_search_box_and_in_the_language_link(client):
    q = '"><script>alert(1)</script>&amp; \'x\' <b>'
    page = client.get("/", query_string={"q": q}).get_data(as_text=True)
    assert "<script>alert(1)" not in page and "<b>" not in page
    box = re.search(r'<input type="search" id="q" name="q" value="([^"]*)"', page)
    assert box is not None and html.unescape(box.group(1)) == q
    link = re.search(r'<a href="([^"]*)" lang="en"', page)
    assert link is not None
    assert parse_qs(urlsplit(html.unescape(link.group(1))).query) == {"q": [q], "lang": ["en"]}
    # the level links carry it too, drawn with the results
    level = re.search(r'<ul class="level-counts"[^>]*>\s*<li><a href="([^"]*)"', page)
    assert level is not None and parse_qs(urlsplit(html.unescape(level.group(1))).query)["q"] == [q]


def test_a_signed_in_or_flashed_page_never_keeps_a_frame(app):
    from flask import flash

    @app.get("/_flash-then-catalogue")
    def _flash():  # a message for this visitor, then the catalogue (as after a redirect)
        flash("chỉ cho bạn", "info")
        return "ok"

    client = app.test_client()
    client.get("/_flash-then-catalogue")
    assert "chỉ cho bạn" in client.get("/?q=khai+sinh").get_data(as_text=True)
    assert not _frames(app)
    assert "chỉ cho bạn" not in app.test_client().get("/?q=khai+sinh").get_data(as_text=True)


def test_the_filter_panel_lists_the_chosen_tiers_offices_only(client):
    page = client.get("/?q=khai+sinh").get_data(as_text=True)
    assert 'id="f-agency"' not in page and "data-office-hint" in page  # no 207 offices
    commune = client.get("/?q=khai+sinh&tier=commune").get_data(as_text=True)
    panel = re.search(r'<select id="f-agency" name="agency"[^>]*>(.*?)</select>', commune, re.S)
    assert panel is not None
    codes = re.findall(r'<option value="([^"]+)"', panel.group(1))
    assert HAI_CHAU in codes and "000.08.35.H15" not in codes  # a ward, not the provincial police
    # an office chosen without a tier: its tier's list, it selected
    chosen = client.get("/", query_string={"agency": HAI_CHAU}).get_data(as_text=True)
    assert f'<option value="{HAI_CHAU}" selected' in chosen


def test_a_citizen_filters_by_office_without_javascript(client):
    """The form's own GET submission, as a browser without scripts sends it: tier first, then
    the office offered on the next page."""
    first = client.get("/", query_string={"q": "", "tier": "commune"}).get_data(as_text=True)
    assert f'<option value="{HAI_CHAU}"' in first
    found = client.get("/", query_string={"q": "", "tier": "commune", "agency": HAI_CHAU}).get_data(as_text=True)
    codes = re.findall(r'href="/thu-tuc/([^"]+)"', found)
    assert codes and BIRTH_CODE in codes
    everything = re.findall(r'href="/thu-tuc/([^"]+)"', client.get("/?tier=commune").get_data(as_text=True))
    assert len(codes) <= len(everything)
