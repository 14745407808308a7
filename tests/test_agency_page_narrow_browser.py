"""The agency page at 375 px, in a real headless Chromium, scrolls no wider than the phone.

Found walking the portal at 375 px: in English the online share's cell ("100.00% – Meets
the 20.00% target") kept to one line (`.num` does not wrap) and pushed the page to 422 px."""

from __future__ import annotations

import pytest

from test_agency_page import birth_office, this_year

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_the_figures_fit_a_phone(app, live_server, page, lang):
    code = birth_office(app)
    app.extensions["motcua"].store.dossiers.add_many(this_year(code))
    page.set_viewport_size({"width": 375, "height": 800})
    page.goto(f"{live_server.url}/co-quan/{code}?lang={lang}")
    share = page.locator("[data-figure=online_share]")
    assert "20" in share.inner_text()  # the target is there, beside the share
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
