"""Search over the catalogue's full-text index, its pages of results, and lint results kept by
content hash (issue 17; issue 10 finding 9: whole words, common abbreviations)."""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path

import pytest

from motcua import catalogue as catalogue_module
from motcua.app import create_app
from motcua.catalogue import CACHE_FILE, Catalogue
from motcua.search import PER_PAGE, Filters, level_counts, page_links, paginate, results, search, words
from motcua.spec.loader import load_file
from motcua.spec.model import Level
from tests.conftest import SPEC_CACHE_ENV
from tests.portal_helpers import BIRTH, BIRTH_CODE, birth_spec, write_spec


@pytest.fixture(autouse=True)
def _cache_in_the_data_folder(monkeypatch):
    """The lint cache tests here read the data folder's file: the run's shared one unset."""
    monkeypatch.delenv(SPEC_CACHE_ENV, raising=False)


def titles(html: str) -> list[str]:
    return re.findall(r"<h3><a [^>]*>([^<]*)</a></h3>", html)


def variants(*names: str, keywords: list[str] | None = None) -> Catalogue:
    """The birth spec under other codes and names (a catalogue built in memory)."""
    birth = load_file(BIRTH).spec
    specs = [
        birth.model_copy(update={"code": f"9.{i:06d}", "name": {"vi": name, "en": f"Procedure {i}"},
                                 "keywords": keywords if keywords is not None else birth.keywords})
        for i, name in enumerate(names)
    ]
    return Catalogue({s.code: s for s in specs}, [])


def names(found) -> list[str]:
    return [s.name["vi"] for s in found]


def test_words_match_whole_never_inside_another_word(client):
    # "tu" is inside "status" (Civil status, the birth spec's sector in English): no match
    assert "Đăng ký khai sinh" not in titles(client.get("/?q=khai+tu").get_data(as_text=True))
    assert titles(client.get("/?q=kha").get_data(as_text=True)) == []
    cat = variants("Đăng ký khai tử", "Đăng ký khai sinh", keywords=[])
    assert names(search(cat, Filters(q="khai tu"))) == ["Đăng ký khai tử"]
    assert names(search(cat, Filters(q="KHAI TỬ"))) == ["Đăng ký khai tử"]


def test_common_abbreviations_match_the_words_written_out(client):
    # every shipped commune procedure is done at the "Ủy ban nhân dân cấp xã"
    assert "Đăng ký khai sinh" in titles(client.get("/?q=UBND").get_data(as_text=True))
    assert "Đăng ký khai sinh" in titles(client.get("/?q=ubnd+cap+xa").get_data(as_text=True))
    cat = variants("Xác nhận của UBND xã", "Đăng ký khai sinh", keywords=[])
    assert "Xác nhận của UBND xã" in names(search(cat, Filters(q="uy ban nhan dan xa")))


def test_either_spelling_finds_the_other_where_only_the_name_has_it():
    """No other text of these specs names the People's Committee (their performer is the
    Department of Justice, no keywords): the name alone must carry both spellings."""
    birth = load_file(BIRTH).spec
    elsewhere = birth.performed_by.model_copy(update={"name": {"vi": "Sở Tư pháp", "en": "Department of Justice"}})
    cat = Catalogue({s.code: s for s in (
        birth.model_copy(update={"code": f"9.00000{i}", "name": {"vi": name, "en": f"Procedure {i}"}, "keywords": [],
                                 "performed_by": elsewhere})
        for i, name in enumerate(["Xác nhận của UBND xã", "Giấy xác nhận của Ủy ban nhân dân phường", "Đăng ký khai sinh"]))}, [])
    both = {"Xác nhận của UBND xã", "Giấy xác nhận của Ủy ban nhân dân phường"}
    for q in ("uy ban nhan dan", "UBND", "Ủy ban nhân dân", "ubnd xac nhan"):
        assert set(names(search(cat, Filters(q=q)))) == both, q
    assert names(search(cat, Filters(q="uy ban nhan dan xa"))) == ["Xác nhận của UBND xã"]
    assert names(search(cat, Filters(q="giay phep lai xe"))) == names(search(cat, Filters(q="gplx"))) == []


def test_exact_name_first_then_the_name_as_a_phrase(client):
    cat = variants("Đăng ký lại khai sinh", "Khai sinh cho trẻ em bị bỏ rơi, đăng ký", "Đăng ký khai sinh",
                   "Đăng ký khai sinh có yếu tố nước ngoài")
    found = names(search(cat, Filters(q="dang ky khai sinh")))
    assert found[0] == "Đăng ký khai sinh"
    assert found[1] == "Đăng ký khai sinh có yếu tố nước ngoài"  # the phrase in the name
    assert set(found) == {s.name["vi"] for s in cat}


def test_the_phrase_in_the_name_is_what_an_fts5_phrase_query_on_the_names_finds(app):
    # the ranking tests a name for the words as a phrase on the indexed text, in Python (one FTS5
    # statement a search): it must split the results as FTS5's own phrase query on the name
    # column does, for words side by side, apart, in either language and through abbreviations
    cat = variants("Đăng ký lại khai sinh", "Khai sinh, đăng ký lại", "Cấp giấy phép lái xe", "Xác nhận của UBND xã",
                   "Giấy xác nhận Ủy ban nhân dân", "Đăng ký khai sinh", keywords=["uy ban nhan dan"])
    index = cat.search_index()
    shipped = app.extensions["motcua"].catalogue.search_index()
    queries = ["dang ky", "ky lai", "khai sinh dang ky", "lai xe", "giay phep", "ubnd", "uy ban nhan dan", "ubnd xa",
               "procedure", "procedure 3", "xac nhan", "ky khai", "dang ky khai sinh"]
    queries += [" ".join(s.name["vi"].split()[i:i + n]) for s in shipped.specs for n in (1, 2, 3) for i in (0, 1)]
    for ix in (index, shipped):
        for q in queries:
            phrase = " ".join(words(q))
            with ix._lock:
                in_name = {i for (i,) in ix._db.execute(
                    "SELECT rowid FROM procedures WHERE procedures MATCH ?", (f'name : "{phrase}"',))}
            ranked = ix.ranked(q)
            exact = set(ix._exact.get(phrase, ()))
            groups = [0 if i in exact else 1 if i in in_name else 2 for i in ranked]
            assert groups == sorted(groups), q  # exact names, then the phrase in the name, then the rest
            assert {i for i in ranked if i in in_name} == in_name & set(ranked), q


def test_a_page_of_results_and_the_level_counts_are_those_of_the_whole_search():
    birth = load_file(BIRTH).spec
    specs = [birth.model_copy(update={"code": f"9.{i:06d}", "name": {"vi": f"Đăng ký khai sinh số {i}", "en": f"Birth {i}"},
                                      "level": Level(2 + i % 3 if i % 5 else 4)})  # levels 2, 3 and 4, unevenly
             for i in range(60)]
    cat = Catalogue({s.code: s for s in specs}, [])
    for f, number in ((Filters(q="khai sinh"), 1), (Filters(q="khai sinh", level=4), 1), (Filters(q="so 1"), 1),
                      (Filters(q="khai sinh", level=3), 2), (Filters(q="khai sinh"), 99), (Filters(), 3),
                      (Filters(q="khong co"), 1)):
        found = results(cat, f, number)
        every_level = search(cat, f.without_level())
        wanted = [s for s in every_level if f.level is None or int(s.level) == f.level]
        assert found.page == paginate(wanted, number)
        assert found.level_counts == level_counts(every_level)
        assert list(found.level_counts) == [1, 2, 3, 4]


def test_the_catalogue_shows_25_a_page_with_page_links(app):
    many = variants(*[f"Thủ tục số {i:02d}" for i in range(60)])
    app.extensions["motcua"].catalogue = many
    client = app.test_client()
    html = client.get("/").get_data(as_text=True)
    assert len(titles(html)) == PER_PAGE
    assert "Tìm thấy 60 thủ tục" in html
    nav = re.search(r'<nav class="pagination" aria-label="([^"]+)">(.*?)</nav>', html, re.S)
    assert nav and nav.group(1) == "Các trang kết quả"
    assert 'aria-current="page" aria-label="Trang 1">1<' in nav.group(2)
    assert 'href="/?page=3"' in nav.group(2) and 'rel="next"' in nav.group(2)
    last = client.get("/?q=thu+tuc&page=3").get_data(as_text=True)
    assert len(titles(last)) == 60 - 2 * PER_PAGE
    assert 'href="/?q=thu+tuc&amp;page=2" rel="prev"' in last
    assert titles(client.get("/?page=99").get_data(as_text=True)) == titles(last)  # past the end: the last
    assert titles(client.get("/?page=abc").get_data(as_text=True)) == titles(html)


def test_the_api_list_has_pages(app):
    app.extensions["motcua"].catalogue = variants(*[f"Thủ tục số {i:02d}" for i in range(30)])
    client = app.test_client()
    first = client.get("/api/v1/procedures").get_json()
    assert (len(first["procedures"]), first["total"], first["page"], first["pages"], first["per_page"]) == (25, 30, 1, 2, 25)
    second = client.get("/api/v1/procedures?page=2").get_json()
    assert len(second["procedures"]) == 5
    assert {p["code"] for p in first["procedures"]}.isdisjoint(p["code"] for p in second["procedures"])
    params = client.get("/api/v1/openapi.json").get_json()["paths"]["/procedures"]["get"]["parameters"]
    assert any(p["name"] == "page" and p["schema"]["type"] == "integer" for p in params)


def test_page_links_skip_the_middle():
    found = list(variants(*[f"P {i}" for i in range(300)]))
    assert page_links(paginate(found, 6)) == [1, None, 4, 5, 6, 7, 8, None, 12]
    assert page_links(paginate(found, 1)) == [1, 2, 3, None, 12]
    assert page_links(paginate(found[:3], 1)) == [1]


def test_lint_results_are_kept_by_content_hash_in_the_data_folder(tmp_path, caplog):
    specs, data = tmp_path / "specs", tmp_path / "data"
    write_spec(specs, "a", birth_spec())
    other = birth_spec() | {"code": "9.000001"}
    path = write_spec(specs, "b", other)
    with caplog.at_level(logging.INFO, logger="motcua.catalogue"):
        assert len(Catalogue.from_folder(specs, data)) == 2
    assert "linted 2 of 2 spec files" in caplog.text
    assert (data / CACHE_FILE).exists()

    caplog.clear()
    catalogue_module._LINTED.clear()  # a new process: only the file is left
    with caplog.at_level(logging.INFO, logger="motcua.catalogue"):
        loaded = Catalogue.from_folder(specs, data)
    assert "linted" not in caplog.text
    assert loaded.get("9.000001").name == other["name"]

    other["name"] = {"vi": "Tên mới", "en": "New name"}
    write_spec(specs, "b", other)
    with caplog.at_level(logging.INFO, logger="motcua.catalogue"):
        assert Catalogue.from_folder(specs, data).get("9.000001").name["vi"] == "Tên mới"
    assert "linted 1 of 2 spec files" in caplog.text

    path.write_text(path.read_text(encoding="utf-8").replace("9.000001", "9.000001\nbogus_key: 1"), encoding="utf-8")
    broken = Catalogue.from_folder(specs, data)
    assert broken.get("9.000001") is None and any(p.severity == "error" for p in broken.problems)


def test_a_cache_file_others_may_write_is_never_read(tmp_path, caplog):
    specs, data = tmp_path / "specs", tmp_path / "data"
    write_spec(specs, "a", birth_spec())
    Catalogue.from_folder(specs, data)
    os.chmod(data / CACHE_FILE, 0o666)
    catalogue_module._LINTED.clear()
    with caplog.at_level(logging.INFO, logger="motcua.catalogue"):
        assert Catalogue.from_folder(specs, data).get(BIRTH_CODE) is not None
    assert "writable by others" in caplog.text and "linted 1 of 1" in caplog.text


def test_the_app_keeps_its_lint_cache_in_its_data_folder(tmp_path):
    write_spec(tmp_path / "specs", "a", birth_spec())
    create_app({"DATA_DIR": str(tmp_path / "data"), "SPECS_DIR": str(tmp_path / "specs"), "TESTING": True})
    assert (tmp_path / "data" / CACHE_FILE).stat().st_mode & 0o777 == 0o600


def test_lint_results_kept_in_memory_are_bounded(tmp_path, monkeypatch):
    monkeypatch.setattr(catalogue_module, "MAX_LINTED", 1)
    write_spec(tmp_path / "a", "a", birth_spec())
    write_spec(tmp_path / "b", "b", birth_spec())
    Catalogue.from_folder(tmp_path / "a")
    assert Catalogue.from_folder(tmp_path / "b").get(BIRTH_CODE) is not None
    kept = {Path(path).parent.name for path, _ in catalogue_module._LINTED}
    assert kept == {"b"}
