"""Helpers for the portal tests: a tmp folder of specs, the CSRF token, a real small PDF."""

from __future__ import annotations

import re
from functools import lru_cache
from datetime import date, timedelta
from pathlib import Path

import yaml

from motcua.spec.loader import FastLoader

#: A birth date registered on time (within 60 days): the birth spec charges late registration.
RECENT_BIRTH = (date.today() - timedelta(days=10)).isoformat()

REPO = Path(__file__).resolve().parent.parent
BIRTH = REPO / "procedure_specs" / "ho-tich" / "dang-ky-khai-sinh.yaml"
BIRTH_CODE = "1.001193"
#: The office the portal tests file with: Phường Hải Châu's People's Committee (Đà Nẵng) in
#: the shipped agency registry; births are filed with a commune office of the citizen's choice.
OFFICE = "000.06.50.H15"


#: libyaml's safe loader and dumper (the same documents as yaml.safe_load / safe_dump): the
#: pure-Python ones take ~23 ms to read the birth spec and ~12 ms to write it, libyaml ~3 ms,
#: and hundreds of tests read and write a spec to arrange their app.
_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def read_yaml(path: Path) -> dict:
    return yaml.load(path.read_text(encoding="utf-8"), Loader=FastLoader)


def dump_yaml(data: object, *, sort_keys: bool = False) -> str:
    return yaml.dump(data, Dumper=_DUMPER, allow_unicode=True, sort_keys=sort_keys)


def birth_spec() -> dict:
    return read_yaml(BIRTH)


def write_spec(folder: Path, name: str, data: dict) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.yaml"
    path.write_text(dump_yaml(data), encoding="utf-8")
    return path


def csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF token in the page"
    return match.group(1)


@lru_cache(maxsize=64)
def small_pdf(text: str = "Giay chung sinh") -> bytes:
    """A real one-page PDF made with WeasyPrint (the documents' PDF engine). Made once per
    text: WeasyPrint gives the same bytes for the same text, and laying it out (~10 ms of
    CPU) was paid hundreds of times per run by the schema round-trip alone."""
    from markupsafe import escape
    from weasyprint import HTML

    return HTML(string=f"<p>{escape(text)}</p>").write_pdf()


GOOD_ANSWERS = {
    "requester": {
        "agency": OFFICE,  # chosen at the start of the form
        "requester.full_name": "Nguyễn Văn An",
        "requester.cccd": "001090012345",
        "requester.phone": "0912345678",
        "requester.relation": "cha",
    },
    "child": {
        "child.full_name": "Nguyễn Minh Khang",
        "child.birth_date": RECENT_BIRTH,
        "child.sex": "nam",
        "child.ethnicity": "Kinh",
        "child.nationality": "Việt Nam",
        "child.birth_place": "Bệnh viện Phụ sản Hà Nội",
        "birth_proof": "giay_chung_sinh",
    },
    "parents": {
        "mother.full_name": "Trần Thị Bình",
        "mother.birth_year": "1995",
        "has_father": "true",
        "father.full_name": "Nguyễn Văn An",
        "father.birth_year": "1990",
    },
    "copies": {"extract_copies": "2"},
}


#: The form's "continue" button (every page of a multi-page form).
CONTINUE = ".actions button[value=continue]"


def follow(page, target) -> None:
    """Browser tests: click `target` (a selector or a locator) and wait for the page the click
    loads, its scripts run. A click returns once a navigation it started has committed (the new
    page still loading, its scripts not run), and may return before one the browser requested
    only after the click's own events: what is read next, or a `goto` that cancels the
    submission, would then be the old page's. Never for a click that stays on the page (it
    would time out)."""
    with page.expect_navigation():
        (page.locator(target) if isinstance(target, str) else target).click()


def fill_birth_steps(page, tmp_path=None, *, birth_date: str = RECENT_BIRTH,
                     birth_place: str = "Bệnh viện Phụ sản Hà Nội", father_birth_year: str = "1985",
                     copies: str = "1") -> None:
    """Browser tests: the birth registration form from the child's page to the copies (steps
    2-4), continuing past each; with `tmp_path` also the attachment page with a real PDF. The
    citizen's own page and the delivery differ per test and stay in them."""
    page.fill("#f-child-full_name", "Nguyễn Minh Khang")
    page.fill("#f-child-birth_date", birth_date)
    page.check("#f-child-sex")
    page.fill("#f-child-birth_place", birth_place)
    follow(page, CONTINUE)
    page.fill("#f-mother-full_name", "Trần Thị Bình")
    page.fill("#f-mother-birth_year", "1995")
    page.fill("#f-father-full_name", "Nguyễn Văn An")
    page.fill("#f-father-birth_year", father_birth_year)
    follow(page, CONTINUE)
    page.fill("#f-extract_copies", copies)
    follow(page, CONTINUE)
    if tmp_path is not None:
        pdf = tmp_path / "giay-chung-sinh.pdf"
        pdf.write_bytes(small_pdf())
        page.set_input_files("#f-attachment-giay_chung_sinh", str(pdf))
        follow(page, CONTINUE)
