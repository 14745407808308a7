"""The catalogue's filter options read in alphabetical order of the words shown, in the
reader's language, letters compared without their diacritics (Vietnamese order, near
enough): not in the order of the slugs or of the Vietnamese words behind an English page."""

from __future__ import annotations

import re

from motcua.search import Filters, by_label, facets
from motcua.spec.life_events import label
from motcua.spec.loader import load_file
from tests.portal_helpers import BIRTH

EVENTS = ["xay-dung", "dat-dai", "khai-sinh", "ket-hon", "that-nghiep", "huu-tri", "suc-khoe"]


def specs():
    birth = load_file(BIRTH).spec
    return [
        birth.model_copy(update={"code": f"9.00000{i}", "life_events": [event],
                                 "sector": {"vi": sector, "en": english}})
        for i, (event, (sector, english)) in enumerate(zip(EVENTS, [
            ("Xây dựng", "Construction"), ("Đất đai", "Land"), ("Hộ tịch", "Civil status"), ("Hộ tịch", "Civil status"),
            ("Việc làm", "Employment"), ("Bảo hiểm xã hội", "Social insurance"), ("Y tế", "Health")]))
    ]


def test_life_events_sort_by_their_words_in_each_language():
    vi = facets(specs(), Filters(), "vi").life_events
    assert [label(e, "vi") for e in vi] == ["Đất đai", "Hưu trí", "Kết hôn", "Khai sinh", "Sức khỏe, y tế", "Thất nghiệp",
                                            "Xây dựng"]  # Đ with the d's, not after X
    en = facets(specs(), Filters(), "en").life_events
    assert [label(e, "en") for e in en] == ["Birth", "Building", "Health", "Land", "Marriage", "Retirement", "Unemployment"]


def test_sectors_sort_by_their_words_in_each_language():
    vi = facets(specs(), Filters(), "vi").sectors
    assert [s["vi"] for s in vi] == ["Bảo hiểm xã hội", "Đất đai", "Hộ tịch", "Việc làm", "Xây dựng", "Y tế"]
    en = facets(specs(), Filters(), "en").sectors
    assert [s["en"] for s in en] == ["Civil status", "Construction", "Employment", "Health", "Land", "Social insurance"]


def test_the_sort_key_folds_diacritics_and_orders_ties_alike():
    assert sorted(["Ưu đãi", "Đường bộ", "Uống", "Dân cư"], key=by_label) == ["Dân cư", "Đường bộ", "Uống", "Ưu đãi"]
    assert sorted(["Hoạt động", "Hộ tịch"], key=by_label) == ["Hộ tịch", "Hoạt động"]  # syllable by syllable
    assert sorted(["Ma", "Mà", "Má"], key=by_label) == sorted(["Má", "Mà", "Ma"], key=by_label)


def test_the_catalogue_page_lists_them_in_the_readers_language(client):
    def options(html: str) -> list[str]:
        select = html[html.index('<select id="f-life"'):]
        return re.findall(r'<option value="[^"]+"[^>]*>([^<]+)</option>', select[: select.index("</select>")])

    english = options(client.get("/?lang=en").get_data(as_text=True))
    assert len(english) >= 3 and english == sorted(english, key=by_label)
    vietnamese = options(client.get("/?lang=vi").get_data(as_text=True))
    assert len(vietnamese) == len(english) and vietnamese == sorted(vietnamese, key=by_label)
