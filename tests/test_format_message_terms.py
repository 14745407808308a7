"""A format's error message names the field the way its label does: a field labelled "Citizen
identity number" is not told its "personal ID number" is wrong. Every shipped spec's fields with
a format, in Vietnamese and English, against the formats table's messages; the receipt's own
label of the number too (through the catalogue)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import pytest

from motcua import formats
from motcua.i18n import t
from motcua.spec.loader import load_file
from motcua.submission import field_label

REPO = Path(__file__).resolve().parent.parent
SPECS = [spec for path in sorted((REPO / "procedure_specs").glob("*/*.yaml"))
         if (spec := load_file(path).spec) is not None and spec.form is not None]
#: The name the law gives the 12-digit number (Luật Căn cước 2023: số định danh cá nhân), and ours in English.
CCCD_TERM = {"vi": "số định danh cá nhân", "en": "citizen identity number"}


def format_fields(node: dict[str, Any], path: str = "") -> Iterator[tuple[str, str]]:
    """(path, format) of every field of a form schema that has a format."""
    if isinstance(node.get("format"), str):
        yield path, node["format"]
    for key, child in (node.get("properties") or {}).items():
        yield from format_fields(child, f"{path}.{key}" if path else key)
    if isinstance(node.get("items"), dict):
        yield from format_fields(node["items"], path)


def messages(fmt: str, lang: str) -> list[str]:
    table = formats.FORMATS[fmt].messages
    return list(table) if lang == "vi" else list(table.values())


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_every_cccd_field_and_its_messages_use_one_term(lang):
    labels = {field_label(spec, path, lang).lower() for spec in SPECS
              for path, fmt in format_fields(spec.form.fields) if fmt == "cccd"}
    assert labels == {CCCD_TERM[lang]}, labels  # the shipped specs label it one way
    for message in messages("cccd", lang):
        assert CCCD_TERM[lang] in message.lower(), message
    # the tax code, which may be that number, names it the same way
    assert CCCD_TERM[lang] in formats.english(formats.TAX_SHAPE).lower() if lang == "en" else CCCD_TERM[lang] in formats.TAX_SHAPE.lower()
    # and so does the receipt that prints it
    assert t("Số định danh cá nhân: ", lang).lower().startswith(CCCD_TERM[lang])


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_every_format_message_names_what_its_fields_are_called(lang):
    """Each field label of a format shares its head noun with the format's messages (a phone
    number, a date, an e-mail address), so the error reads as being about that field."""
    heads = {"cccd": {"vi": "định danh", "en": "identity number"}, "vn-mobile": {"vi": "điện thoại", "en": "phone"},
             "tax-code": {"vi": "mã số thuế", "en": "tax code"}, "date": {"vi": "ngày", "en": "date"},
             "email": {"vi": "thư điện tử", "en": "e-mail"}, "idn-email": {"vi": "thư điện tử", "en": "e-mail"}}
    seen = set()
    for spec in SPECS:
        for path, fmt in format_fields(spec.form.fields):
            seen.add(fmt)
            head = heads[fmt][lang]
            if fmt != "date":  # a date's label names the day ("Valid until"); its message says "date"
                assert head in field_label(spec, path, lang).lower(), (spec.code, path, fmt)
            for message in messages(fmt, lang):
                assert head in message.lower(), (fmt, message)
    assert {"cccd", "vn-mobile", "date", "email"} <= seen
