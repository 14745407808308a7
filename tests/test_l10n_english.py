"""English is a real second locale: spec text, amounts and time limits read in English
(amounts and dates themselves: tests/test_i18n_formats.py).

And the two procedures whose law counts calendar days (judicial record certificate,
construction permit) say "ngày", not "ngày làm việc", and are due on the right day.
"""

from __future__ import annotations

import html
import io
import re
from datetime import date, datetime
from pathlib import Path
from typing import Any, Iterator

import pytest
import yaml
from pypdf import PdfReader

from motcua.spec.model import ProcedureSpec, localize
from motcua.workdays import VN_TZ, Calendar

SPECS = sorted((Path(__file__).resolve().parent.parent / "procedure_specs").glob("*/*.yaml"))
JUDICIAL_RECORD = "2.000488"
CONSTRUCTION_PERMIT = "1.009994"


def load(path: Path) -> ProcedureSpec:
    return ProcedureSpec.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))


def texts(node: Any, where: str = "") -> Iterator[tuple[str, dict[str, str]]]:
    """Every localized text ({vi, en}) in a dumped spec, with where it is."""
    if isinstance(node, dict):
        if "vi" in node and set(node) <= {"vi", "en"} and isinstance(node["vi"], str):
            yield where, node
            return
        for key, value in node.items():
            yield from texts(value, f"{where}.{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from texts(value, f"{where}[{i}]")


def page_text(response) -> str:
    body = response.get_data(as_text=True)
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", body, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", body))


# --- money ------------------------------------------------------------------------------------


def test_the_fee_on_the_info_page_follows_the_language(client):
    vi = page_text(client.get(f"/thu-tuc/{JUDICIAL_RECORD}"))
    en = page_text(client.get(f"/thu-tuc/{JUDICIAL_RECORD}?lang=en"))
    assert "200.000 ₫" in vi and "25.000 ₫" in vi  # fee and postal charge
    assert "VND 200,000" in en and "VND 25,000" in en
    assert "₫" not in en


# --- spec text --------------------------------------------------------------------------------


def test_a_plain_string_is_still_accepted_for_the_newly_localized_texts():
    data = yaml.safe_load(SPECS[0].read_text(encoding="utf-8"))
    data["decision"] = "Quyết định 1/QĐ-BTP"
    data["info"]["legal_basis"][0]["issuer"] = "Quốc hội"
    data["attachments"] = [{"id": "to_khai", "name": "Tờ khai", "template": "Mẫu số 01"}]
    spec = ProcedureSpec.model_validate(data)
    assert spec.decision == {"vi": "Quyết định 1/QĐ-BTP"}
    assert localize(spec.info.legal_basis[0].issuer, "en") == "Quốc hội"  # falls back to vi
    assert localize(spec.attachments[0].template, "en") == "Mẫu số 01"


@pytest.mark.parametrize("path", SPECS, ids=lambda p: p.stem)
def test_every_text_a_reader_sees_has_english(path):
    spec = load(path)
    missing = [where for where, text in texts(spec.model_dump(mode="json", by_alias=True)) if not text.get("en")]
    assert missing == [], f"{path.name}: Vietnamese only at {missing}"


@pytest.mark.parametrize("path", SPECS, ids=lambda p: p.stem)
def test_no_vietnamese_only_text_leaks_into_the_english_info_page(client, path):
    spec = load(path)
    page = page_text(client.get(f"/thu-tuc/{spec.code}?lang=en"))
    dumped = spec.model_dump(mode="json", by_alias=True, exclude={"form", "steps"})
    leaked = [
        (where, text["vi"])
        for where, text in texts(dumped)
        if text["vi"] != text["en"] and text["vi"] not in text["en"] and text["vi"] in page
    ]
    assert leaked == []
    # The texts that were plain strings until now are there, in English.
    localized = [lb.issuer for lb in spec.info.legal_basis] + [a.template for a in spec.attachments]
    localized += [spec.decision]
    for text in filter(None, localized):
        assert text["en"] in page and text["vi"] not in page


def test_the_english_info_page_names_issuers_and_the_decision_in_english(client):
    page = page_text(client.get("/thu-tuc/1.001193?lang=en"))  # birth registration
    assert "Decision 1872/QĐ-BTP of 04/07/2025" in page
    for issuer in ("National Assembly", "Government", "Ministry of Justice", "Ministry of Finance"):
        assert issuer in page
    assert "Quốc hội" not in page and "Bộ Tư pháp" not in page
    vi = page_text(client.get("/thu-tuc/1.001193?lang=vi"))  # the lang cookie is set now
    assert "Quốc hội" in vi and "Quyết định 1872/QĐ-BTP ngày 04/07/2025" in vi


# --- calendar days ----------------------------------------------------------------------------


@pytest.mark.parametrize(("code", "days", "most"), [(JUDICIAL_RECORD, 10, 15), (CONSTRUCTION_PERMIT, 15, None)])
def test_calendar_day_limits_are_published_as_days(client, code, days, most):
    vi = page_text(client.get(f"/thu-tuc/{code}"))
    en = page_text(client.get(f"/thu-tuc/{code}?lang=en"))
    assert f"{days} ngày" in vi and "ngày làm việc" not in vi
    assert f"{days} days" in en and "working day" not in en
    if most:
        assert f"tối đa {most} ngày" in vi and f"at most {most} days" in en


def test_working_day_limits_still_say_working_days(client):
    assert "5 ngày làm việc" in page_text(client.get("/thu-tuc/1.000894"))  # marriage, if verified
    assert "5 working days" in page_text(client.get("/thu-tuc/1.000894?lang=en"))


def test_both_calendar_day_specs_declare_it_and_no_approximation_is_left():
    by_code = {load(p).code: load(p) for p in SPECS}
    judicial, permit = by_code[JUDICIAL_RECORD].info.processing_time, by_code[CONSTRUCTION_PERMIT].info.processing_time
    assert (judicial.calendar_days, judicial.working_days, judicial.max_working_days) == (True, 10, 15)
    assert (permit.calendar_days, permit.working_days) == (True, 15)
    for path in SPECS:
        assert "always contain" not in path.read_text(encoding="utf-8")  # the old working-day approximation


CAL = Calendar.load()


def at(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=VN_TZ)


def test_calendar_days_from_a_friday_end_on_a_working_day():
    friday = date(2026, 11, 20)
    assert CAL.due_date(at(friday), 10, calendar_days=True) == date(2026, 11, 30)  # a Monday
    # 15 days end on Saturday 05/12: due on Monday 07/12.
    assert CAL.due_date(at(friday), 15, calendar_days=True) == date(2026, 12, 7)
    # Friday 21/08/2026 + 10 days = Monday 31/08, a day off like 01/09 and 02/09 (National Day).
    assert CAL.due_date(at(date(2026, 8, 21)), 10, calendar_days=True) == date(2026, 9, 3)


def test_a_dossier_received_on_a_day_off_counts_from_the_next_working_day():
    saturday = date(2026, 11, 21)
    assert CAL.due_date(at(saturday), 10, calendar_days=True) == date(2026, 12, 3)  # Monday 23/11 + 10
    # Same as a working-day limit does: received on a weekend = received on Monday.
    assert CAL.due_date(at(saturday), 10) == CAL.due_date(at(date(2026, 11, 23)), 10)


JUDICIAL_ANSWERS = {
    "applicant": {
        "full_name": "Trần Thị Mai",
        "sex": "nu",
        "birth_date": "1998-03-14",
        "birth_place": "Hà Nội",
        "nationality": "Việt Nam",
        "ethnicity": "Kinh",
        "cccd": "001198012345",
        "phone": "0912345678",
        "permanent_residence": "Số 5 Tràng Tiền, Hà Nội",
    },
    "parents": {"father_name": "Trần Văn Hùng", "mother_name": "Lê Thị Hoa"},
    "residence_history": [{"from_date": "2012-03-14", "place": "Hà Nội"}],
    "certificate_type": "so_1",
    "purpose": "Xin việc",
    "certificate_count": 1,
    "fee_group": "thong_thuong",
    "filed_by": "ban_than",
}


def test_a_judicial_record_request_filed_on_a_friday_is_due_ten_days_later(app):
    from motcua.filing import file_dossier
    from motcua.services import services
    from motcua_renderers.documents import receipt_pdf

    with app.test_request_context("/"):
        spec = services().catalogue.get(JUDICIAL_RECORD)
        dossier = file_dossier(spec, JUDICIAL_ANSWERS, [], "online", None, "citizen", "en", at=at(date(2026, 11, 20)))
        assert dossier.due_date == date(2026, 11, 30)
        assert dossier.fee_total == 200000
        pdfs = {lang: receipt_pdf(dossier, spec, "http://127.0.0.1/ho-so/x", lang) for lang in ("vi", "en")}
    text = {lang: "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages) for lang, pdf in pdfs.items()}
    assert "10 ngày" in text["vi"] and "ngày làm việc" not in text["vi"] and "200.000 ₫" in text["vi"]
    assert "10 days" in text["en"] and "working days" not in text["en"] and "VND 200,000" in text["en"]
    assert "Nov 30, 2026" in text["en"] and "30/11/2026" in text["vi"]
