"""The gettext catalogues are true to the code, and English is complete.

`make catalogues` (pybabel extract from the Python sources, the Jinja templates and the
scripts, then pybabel update) is run on a copy of the catalogues: the messages it finds
are exactly the catalogue's entries, and the refreshed catalogue is byte for byte the
committed one, so a string added, changed or deleted in the code without `make messages`
fails here, and so does a hand edit that the tools would undo.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from functools import lru_cache
from pathlib import Path

from babel.messages.catalog import Catalog, Message
from babel.messages.pofile import read_po

from motcua import i18n

REPO = Path(__file__).resolve().parent.parent
PYBABEL = Path(sys.executable).parent / "pybabel"
FIELD = re.compile(r"\{(\w*)[^{}]*\}")


@lru_cache(maxsize=1)
def refreshed() -> tuple[Catalog, str, str]:
    """(the extracted template, the committed English .po text, the same after `make catalogues`)."""
    import tempfile

    work = Path(tempfile.mkdtemp(prefix="motcua-i18n-"))
    locales = work / "translations"
    shutil.copytree(i18n.FOLDER, locales, ignore=shutil.ignore_patterns("*.mo"))
    pot = work / "messages.pot"
    done = subprocess.run(
        ["make", "--no-print-directory", "-s", "catalogues", f"PYBABEL={PYBABEL}", f"POT={pot}", f"LOCALES={locales}"],
        cwd=REPO, capture_output=True, text=True,
    )
    assert done.returncode == 0, done.stderr
    with pot.open("rb") as handle:
        template = read_po(handle)
    after = (locales / "en" / "LC_MESSAGES" / "messages.po").read_text(encoding="utf-8")
    before = i18n.catalogue_path("en").read_text(encoding="utf-8")
    shutil.rmtree(work)
    return template, before, after


def english() -> Catalog:
    with i18n.catalogue_path("en").open("rb") as handle:
        return read_po(handle, locale="en")


def key(message: Message) -> tuple[str | None, str]:
    ident = message.id[0] if isinstance(message.id, tuple) else message.id
    return message.context, ident


def entries(catalog: Catalog) -> set[tuple[str | None, str]]:
    return {key(m) for m in catalog if m.id}


def test_extraction_reads_every_kind_of_source():
    found = entries(refreshed()[0])
    assert (None, "Nội dung bổ sung dài tối đa {n} ký tự.") in found  # a Python call
    assert any(k[1].startswith("Không tìm thấy “{name}” trong {province}. Từ ngày {date}") for k in found)  # joined literals
    assert (None, "Gửi hồ sơ bổ sung") in found  # templates/portal/supplement.html
    assert (None, "Tỉnh, thành phố") in found  # a table of labels marked with N_()
    assert (None, "Mẫu tạo từ thủ tục {key}") in found  # renderers' t(text, lang)
    assert ("timeline column", "Nội dung") in found and (None, "Nội dung") in found  # a context
    assert len(found) > 500


def test_every_message_of_the_code_is_in_the_catalogue():
    missing = entries(refreshed()[0]) - entries(english())
    assert not missing, "messages not in the catalogue (run `make messages`, then translate):\n" + "\n".join(map(repr, sorted(missing, key=str)))


def test_no_catalogue_entry_is_unused():
    unused = entries(english()) - entries(refreshed()[0])
    assert not unused, "catalogue entries nothing says (run `make messages`):\n" + "\n".join(map(repr, sorted(unused, key=str)))


def test_extract_and_update_round_trip_with_no_change():
    _template, before, after = refreshed()
    assert after == before, "the catalogue is not what `make messages` writes: run it and commit the result"


def test_the_english_catalogue_is_complete():
    catalog = english()
    assert catalog.num_plurals == 2 and catalog.plural_expr == "(n != 1)"
    untranslated = [m.id for m in catalog if m.id and not all(m.string if isinstance(m.string, tuple) else [m.string])]
    fuzzy = [m.id for m in catalog if m.id and m.fuzzy]
    assert untranslated == [] and fuzzy == [], f"untranslated: {untranslated}; fuzzy (review, then drop the flag): {fuzzy}"
    assert len(catalog) > 500


def test_translations_ask_only_for_fields_the_code_gives():
    """`{name}` in the English must be a field of the Vietnamese (else `.format` raises)."""
    wrong = []
    for m in english():
        if not m.id:
            continue
        given = {f for text in (m.id if isinstance(m.id, tuple) else [m.id]) for f in FIELD.findall(text)} | ({"n"} if m.pluralizable else set())
        for text in m.string if isinstance(m.string, tuple) else [m.string]:
            if not set(FIELD.findall(text)) <= given:
                wrong.append((m.id, text))
    assert wrong == []


def test_no_yaml_catalogue_is_left():
    """The YAML catalogues are retired: English is written in the .po (docs/i18n.md)."""
    assert sorted(p.name for p in i18n.FOLDER.rglob("*.yaml")) == []


def test_messages_in_both_languages_with_context_and_plurals():
    assert i18n.gettext("Nộp hồ sơ", lang="vi") == "Nộp hồ sơ"
    assert i18n.gettext("Tìm thấy {n} thủ tục", lang="en", n=3) != "Tìm thấy 3 thủ tục"
    # One Vietnamese word, two English ones.
    assert i18n.gettext("Nội dung", lang="en") == "Content"  # of a message, of feedback
    assert i18n.pgettext("timeline column", "Nội dung", lang="en") == "What"  # what happened
    assert i18n.pgettext("timeline column", "Thời gian", lang="en") == "When"
    assert i18n.pgettext("timeline column", "Nội dung", lang="vi") == "Nội dung"
    assert i18n.pgettext("heading", "Lọc", lang="en") == "Filters" and i18n.gettext("Lọc", lang="en") == "Filter"
    # Vietnamese has one form, English two.
    for n, en in ((1, "1 working day"), (5, "5 working days")):
        assert i18n.ngettext("{n} ngày làm việc", "{n} ngày làm việc", n, lang="en") == en
        assert i18n.ngettext("{n} ngày làm việc", "{n} ngày làm việc", n, lang="vi") == f"{n} ngày làm việc"
    assert i18n.t("Không có", "en") == i18n.gettext("Không có", lang="en")
    assert i18n.gettext("chuỗi không có trong danh mục", lang="en") == "chuỗi không có trong danh mục"  # falls back


def test_the_language_is_chosen_by_query_then_cookie(client):
    english, vietnamese = "Find a procedure", "Tìm thủ tục hành chính"
    assert vietnamese in client.get("/").get_data(as_text=True)
    assert "lang=en" in client.get("/?lang=en").headers.get("Set-Cookie", "")
    assert english in client.get("/").get_data(as_text=True)  # the cookie remembers
    assert vietnamese in client.get("/?lang=vi").get_data(as_text=True)


def test_counts_on_pages_use_plural_forms(client):
    one = client.get("/?lang=en&q=ly+lich+tu+phap").get_data(as_text=True)
    assert "1 procedure found" in one and "1 procedures" not in one
    many = client.get("/?lang=en").get_data(as_text=True)
    assert re.search(r"\b([2-9]|\d\d+) procedures found", many)
    assert re.search(r"Tìm thấy \d+ thủ tục", client.get("/?lang=vi").get_data(as_text=True))
