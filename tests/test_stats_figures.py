"""One set of figures, written out by hand, read back from every place that shows them.

The fixture (tests/stats_fixtures.py) passes through every status, 1 to 10. The figures of
agency A in Q1 2025 are counted by hand below, dossier by dossier, and the report, the
dashboard, the CSV files, `/api/v1/stats` and `motcua stats` must all say exactly those.
Then a dossier filed through the real filing code and refused at intake by a desk officer
through the staff page leaves received, settled and the on-time rate as they were.
"""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from click.testing import CliRunner
from markupsafe import escape

from motcua import accounts
from motcua.cli import main
from motcua.dossier import Status
from motcua.stats import period as periods
from motcua.stats.figures import FIGURES
from motcua.stats.source import build_report
from motcua.stats.tables import SUMMARY_KEYS
from stats_fixtures import AGENCY_A, at, dossiers, make

PASSWORD = "mat-khau-rat-dai-2025"
Q1 = "year=2025&quarter=1&agency=" + AGENCY_A

#: Agency A, Q1 2025, counted by hand (count day 31/03/2025).
EXPECTED = {
    # filed in Q1 and not refused at intake: A1 A2 A3 A4 A5 A6 A8 A9 A10 A13 A14 A15
    "received": 12,
    "online": 7,  # A1 A4 A5 A9 A10 A14 A15
    "desk": 4,  # A2 A6 A8 A13
    "postal": 1,  # A3 (A16 was posted too, but refused at intake)
    "carried_over": 1,  # A11, filed in December 2024
    "settled": 6,  # A1 A2 A3 A5 A11 A14 (A4 and A15 settle in April)
    "early": 2,  # A1 (15/01, due 20/01), A14 (24/03, due 25/03)
    "on_time": 2,  # A2 (10/02), A5 (16/01, its due date moved by the supplement)
    "late": 2,  # A3 (14/02, due 12/02), A11 (08/01, due 05/01)
    "withdrawn": 1,  # A6
    "stopped": 2,  # A13 (since 20/02), A15 (20/03, resumed only on 07/04)
    "open": 4,  # A4 A8 A9 A10
    "open_overdue": 1,  # A9 (A10's clock is paused since before its due date)
    "refused_at_intake": 2,  # A7 (refused on 04/03 as filed), A16 (received, then refused on 25/03)
    "online_share": Decimal("58.33"),  # 7 / 12
    "on_time_rate": Decimal("66.67"),  # (2 + 2) / 6
}


@pytest.fixture
def stored(app):
    items = dossiers()
    app.extensions["motcua"].store.dossiers.add_many(items.values())
    return items


def as_number(text: str) -> Decimal:
    """A figure as the page (47,04% / 1.234) or a CSV (47.04) writes it."""
    text = text.strip().rstrip("%")
    if "," in text or re.fullmatch(r"\d{1,3}(\.\d{3})+", text):
        text = text.replace(".", "").replace(",", ".")
    return Decimal(text)


def same(figures: dict) -> dict:
    return {key: Decimal(str(figures[key])) for key in EXPECTED}


def test_the_fixture_passes_through_every_status():
    seen = {int(e.status) for d in dossiers().values() for e in d.events if e.status is not None}
    assert seen == {int(s) for s in Status}


def figure_cells(page: str, where: str) -> dict[str, str]:
    """{figure key: the value in the cell beside its row header} of one table of the page."""
    term = r'aria-describedby="def-' + where + r'-(\w+)">[^<]*<span class="tip"[^>]*>[^<]*</span></span>'
    return dict(re.findall(term + r'</th><td class="num">([^<]+)</td>', page))


def test_report_api_csv_cli_and_page_give_the_hand_counted_figures(app, client, stored):
    expected = {key: Decimal(str(value)) for key, value in EXPECTED.items()}
    svc = app.extensions["motcua"]

    report = build_report(svc.store, svc.catalogue, period=periods.quarter(2025, 1), agencies=[AGENCY_A],
                          today=date(2026, 1, 15))
    assert same({key: getattr(report.totals, key) for key in EXPECTED}) == expected
    t = report.totals
    assert t.carried_over + t.received == t.settled + t.withdrawn + t.stopped + t.open

    api = client.get(f"/api/v1/stats?{Q1}").get_json()
    assert same(api["totals"]) == expected
    assert api["online_share"] == 58.33

    summary_csv = client.get(f"/thong-ke/tong-hop.csv?{Q1}").get_data().decode("utf-8-sig")
    by_label = dict(csv.reader(io.StringIO(summary_csv)))
    assert {key: Decimal(by_label[FIGURES[key].label["vi"]]) for key in EXPECTED} == expected
    sector_csv = list(csv.reader(io.StringIO(client.get(f"/thong-ke/linh-vuc.csv?{Q1}").get_data().decode("utf-8-sig"))))
    header, rows = sector_csv[0], sector_csv[1:]
    column = {key: header.index(FIGURES[key].label["vi"]) for key in EXPECTED if key not in ("online_share", "on_time_rate")}
    totals = {key: sum(Decimal(row[i]) for row in rows) for key, i in column.items()}
    assert totals == {key: value for key, value in expected.items() if key in column}

    runner = CliRunner()
    base = ["stats", "--data", app.config["DATA_DIR"], "--specs", app.config["SPECS_DIR"], "--year", "2025", "--quarter", "1",
            "--agency", AGENCY_A]
    result = runner.invoke(main, base + ["--format", "json"])
    assert result.exit_code == 0, result.output
    assert same(json.loads(result.output)["totals"]) == expected
    result = runner.invoke(main, base + ["--format", "csv"])
    cli_rows = dict(csv.reader(io.StringIO(result.output)))
    assert {key: Decimal(cli_rows[FIGURES[key].label["vi"]]) for key in EXPECTED} == expected
    result = runner.invoke(main, base)
    for key in SUMMARY_KEYS:  # the terminal table names every headline figure by its label
        assert re.search(re.escape(FIGURES[key].label["vi"]) + r"\s+" + r"[\d.,]+", result.output), key

    page = client.get(f"/thong-ke?{Q1}").get_data(as_text=True)
    shown = {key: as_number(value) for key, value in figure_cells(page, "ket-qua").items()}
    assert shown == {key: value for key, value in expected.items() if key not in ("online", "desk", "postal", "online_share")}
    channels = figure_cells(page, "kenh-nop")
    assert {key: as_number(channels[key]) for key in ("online", "desk", "postal")} == {
        key: expected[key] for key in ("online", "desk", "postal")
    }
    assert "58,33%" in page


def test_every_figure_carries_its_definition_everywhere(client, app, stored):
    for figure in FIGURES.values():
        for lang in ("vi", "en"):
            assert figure.label[lang] and figure.definition[lang] and figure.source[lang], (figure.key, lang)
    api = client.get(f"/api/v1/stats?{Q1}").get_json()
    assert api["definitions"]["refused_at_intake"]["label"] == "Không đủ điều kiện tiếp nhận"
    assert set(api["definitions"]) == set(FIGURES)
    english = client.get(f"/api/v1/stats?{Q1}&lang=en").get_json()["definitions"]
    assert english["on_time_rate"]["source"] == FIGURES["on_time_rate"].source["en"]

    rows = list(csv.reader(io.StringIO(client.get(f"/thong-ke/dinh-nghia.csv?{Q1}&lang=vi").get_data().decode("utf-8-sig"))))
    assert [row[1] for row in rows[1:]] == list(FIGURES)
    assert rows[1:][list(FIGURES).index("on_time_rate")][2] == FIGURES["on_time_rate"].definition["vi"]

    result = CliRunner().invoke(main, ["stats", "--data", app.config["DATA_DIR"], "--specs", app.config["SPECS_DIR"],
                                       "--year", "2025", "--format", "csv", "--table", "dinh-nghia"])
    assert list(csv.reader(io.StringIO(result.output)))[1:] == rows[1:]

    page = client.get(f"/thong-ke?{Q1}&lang=vi").get_data(as_text=True)
    for figure in FIGURES.values():
        definition = str(escape(figure.definition["vi"]))
        # shown on hover and focus: a focusable term whose tip is the definition ...
        assert re.search(r'<span class="term" tabindex="0" aria-describedby="def-[\w-]+-' + figure.key
                         + r'">[^<]*<span class="tip" aria-hidden="true">' + re.escape(definition), page), figure.key
        # ... and written out under a table, and once with its source at the end.
        assert re.search(r'<dd id="def-(?!tat-ca)[\w-]+-' + figure.key + r'">' + re.escape(definition), page), figure.key
        source = str(escape(figure.source["vi"]))
        assert re.search(r'<dd id="def-tat-ca-' + figure.key + r'">[^<]*<span class="source">[^<]*' + re.escape(source), page)
    # every term points at a definition that is on the page
    for target in set(re.findall(r'aria-describedby="(def-[\w-]+)"', page)):
        assert f'id="{target}"' in page, target


# --- refused at intake changes nothing ---------------------------------------------------------


def birth_answers() -> dict:
    return {
        "requester": {"full_name": "Nguyễn Văn An", "cccd": "001085012345", "phone": "0912345678", "relation": "cha"},
        "child": {
            "full_name": "Nguyễn Văn Bình",
            "birth_date": (date.today() - timedelta(days=10)).isoformat(),
            "sex": "nam",
            "ethnicity": "Kinh",
            "nationality": "Việt Nam",
            "birth_place": "Bệnh viện Phụ sản Hải Phòng",
        },
        "mother": {"full_name": "Trần Thị Cúc", "birth_year": 1990},
        "has_father": True,
        "father": {"full_name": "Nguyễn Văn An", "birth_year": 1988},
        "birth_proof": "giay_chung_sinh",
        "extract_copies": 0,
    }


def figures_now(client, year: int) -> dict:
    totals = client.get(f"/api/v1/stats?year={year}&agency={AGENCY_A}").get_json()["totals"]
    return {key: totals[key] for key in ("received", "online", "settled", "early", "on_time", "late", "on_time_rate",
                                         "open", "refused_at_intake")}


def test_a_dossier_filed_then_refused_at_intake_changes_no_figure_but_its_own(app, client, monkeypatch):
    from motcua.filing import file_dossier
    from motcua.stats.period import vn_today

    svc = app.extensions["motcua"]
    today = vn_today()
    year = today.year
    # This year so far: one dossier settled early, one late, one open.
    now = at(today.year, today.month, today.day, 8)
    S = Status
    svc.store.dossiers.add_many([
        make("N9001", now, today + timedelta(days=5), (now, S.RECEIVED), (now, S.PROCESSING), (now, S.FINISHED)),
        make("N9002", now, today - timedelta(days=1), (now, S.RECEIVED), (now, S.PROCESSING), (now, S.FINISHED)),
        make("N9003", now, today + timedelta(days=5), (now, S.RECEIVED)),
    ])
    before = figures_now(client, year)
    assert (before["received"], before["settled"], before["on_time_rate"]) == (3, 2, 50.0)

    spec = svc.catalogue.get("1.001193")
    with app.test_request_context():
        dossier = file_dossier(spec, birth_answers(), [], channel="online", delivery=None, actor="citizen", agency=AGENCY_A)
    accounts.create_account(svc.store, "lan", "Nguyễn Thị Lan", ["desk"], [AGENCY_A], PASSWORD)
    staff = app.test_client()
    token = re.search(r'name="csrf_token" value="([^"]+)"', staff.get("/staff/login").get_data(as_text=True)).group(1)
    assert staff.post("/staff/login", data={"username": "lan", "password": PASSWORD, "csrf_token": token}).status_code == 302
    page = staff.get(f"/staff/ho-so/{dossier.code}").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = staff.post(f"/staff/ho-so/{dossier.code}/xu-ly",
                          data={"action": "refuse", "reason": "Thiếu giấy chứng sinh.", "csrf_token": token})
    assert response.status_code == 302
    assert svc.store.dossiers.get(dossier.code).status == Status.REFUSED

    after = figures_now(client, year)
    assert after == {**before, "refused_at_intake": before["refused_at_intake"] + 1}
    page = client.get(f"/thong-ke?year={year}&agency={AGENCY_A}").get_data(as_text=True)
    assert figure_cells(page, "ket-qua")["refused_at_intake"] == "1"


def test_docs_say_what_the_module_says():
    from pathlib import Path

    text = (Path(__file__).resolve().parent.parent / "docs" / "statistics.md").read_text(encoding="utf-8")
    for figure in FIGURES.values():
        for lang in ("vi", "en"):
            for part in (figure.label, figure.definition, figure.source):
                assert part[lang] in text, (figure.key, lang, part[lang])
