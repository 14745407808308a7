"""The agency page /co-quan/<code>: what a citizen reads about one office, its procedures by
level and its figures for this year, kept like the other public pages."""

from __future__ import annotations

import re
import time
from datetime import timedelta

import pytest

from motcua.dossier import Status
from motcua.offices import offices, performers
from motcua.stats.period import vn_today
from stats_fixtures import at, make

BIRTH = "1.001193"


def birth_office(app) -> str:
    catalogue = app.extensions["motcua"].catalogue
    return performers(catalogue.get(BIRTH), catalogue)[0]


def this_year(code: str) -> list:
    """Three dossiers of `code` filed today: two online (one settled early), one at the desk."""
    today = vn_today()
    now = at(today.year, today.month, today.day, 0, 5)
    S = Status
    return [
        make("T1", now, today + timedelta(days=5), (now, S.RECEIVED), (now, S.FINISHED), agency=code),
        make("T2", now, today + timedelta(days=5), (now, S.RECEIVED), agency=code),
        make("T3", now, today + timedelta(days=5), (now, S.RECEIVED), channel="desk", agency=code),
    ]


def figure(page: str, key: str) -> str:
    match = re.search(r'data-figure="' + key + r'">([^<]+)<', page)
    assert match, key
    return match.group(1).strip()


def test_the_page_shows_the_office_its_procedures_and_this_years_figures(app, client):
    code = birth_office(app)
    app.extensions["motcua"].store.dossiers.add_many(this_year(code))
    office = offices(app.extensions["motcua"].catalogue)[code]
    page = client.get(f"/co-quan/{code}").get_data(as_text=True)
    assert f"<h1>{office.name['vi']}</h1>" in page and code in page
    assert f'href="/thu-tuc/{BIRTH}"' in page  # its procedures, linked
    assert "Mức độ 4 – toàn trình" in page or "Mức độ 3 – một phần" in page
    assert figure(page, "received") == "3"
    assert figure(page, "online_share").startswith("66,67%")  # 2 of 3
    assert figure(page, "settled") == "1" and figure(page, "on_time_rate") == "100,00%"
    assert figure(page, "open") == "2"
    assert f'href="/thong-ke?agency={code}"' in page
    english = client.get(f"/co-quan/{code}?lang=en").get_data(as_text=True)
    assert figure(english, "online_share").startswith("66.67%")
    assert '<html lang="en">' in english
    address = office.address["en"]  # the commune in English beside the English name
    assert address and address in english and "Phường" not in address and "Xã" not in address


def test_linked_from_the_procedure_page_and_the_catalogue(app, client):
    catalogue = app.extensions["motcua"].catalogue
    code = birth_office(app)
    # birth registration is performed by every commune: the office the citizen picked is linked
    assert f'href="/co-quan/{code}"' in client.get(f"/thu-tuc/{BIRTH}?co_quan={code}").get_data(as_text=True)
    single = next(spec for spec in catalogue if len(performers(spec, catalogue)) == 1)
    only = performers(single, catalogue)[0]
    assert f'href="/co-quan/{only}"' in client.get(f"/thu-tuc/{single.code}").get_data(as_text=True)
    assert f'href="/co-quan/{only}"' in client.get("/").get_data(as_text=True)


@pytest.mark.parametrize("code", ["000.99.99.H99", "not-a-code", "%3Cscript%3Ealert(1)%3C%2Fscript%3E"])
def test_unknown_or_malformed_code_is_404_and_escaped(client, code):
    response = client.get(f"/co-quan/{code}")
    assert response.status_code == 404
    assert "<script>alert(1)" not in response.get_data(as_text=True)


def test_kept_like_other_public_pages_for_a_time_slot(app):
    app.config["AGENCY_PAGE_FIGURES_SECONDS"] = 2
    code = birth_office(app)
    client = app.test_client()
    time.sleep(2 - time.time() % 2 + 0.05)  # at the start of a slot
    first = client.get(f"/co-quan/{code}").get_data(as_text=True)
    assert figure(first, "received") == "0"
    app.extensions["motcua"].store.dossiers.add_many(this_year(code))
    kept = client.get(f"/co-quan/{code}").get_data(as_text=True)
    assert figure(kept, "received") == "0"  # the kept page, drawn once in this slot
    time.sleep(2.1)
    assert figure(client.get(f"/co-quan/{code}").get_data(as_text=True), "received") == "3"


def test_the_figures_are_counted_once_per_office_and_slot_whatever_the_language_or_query(app, monkeypatch):
    """The page is kept per language and query string, its figures (a pass over the store) per
    office and time slot only: a new `?x=` or the other language must not count them again."""
    from motcua.web import agency_page

    passes: list[str] = []
    real = agency_page.build_report
    monkeypatch.setattr(agency_page, "build_report", lambda *a, **k: passes.append("pass") or real(*a, **k))
    app.config["AGENCY_PAGE_FIGURES_SECONDS"] = 3600
    code = birth_office(app)
    client = app.test_client()
    for url in (f"/co-quan/{code}", f"/co-quan/{code}?lang=en", f"/co-quan/{code}?x=1", f"/co-quan/{code}?x=2"):
        assert client.get(url).status_code == 200
    assert len(passes) == 1
