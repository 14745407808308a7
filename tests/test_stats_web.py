"""The transparency page, the staff dashboard, CSV, JSON and the `motcua stats` command."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest
from conftest import BACKENDS
from click.testing import CliRunner

from motcua import accounts
from motcua.cli import main
from stats_fixtures import AGENCY_A, AGENCY_B, dossiers

PASSWORD = "mat-khau-rat-dai-2025"


def OVERDUE_NOW(items):
    """Open and past due today (the real today, after 2025): A9, then A8 and A12 (due 31/12/2025)."""
    return [items["A9"].code, items["A8"].code, items["A12"].code]


@pytest.fixture
def stored(app):
    svc = app.extensions["motcua"]
    items = dossiers()
    svc.store.dossiers.add_many(items.values())
    return items


def csrf(client, url):
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get(url).get_data(as_text=True)).group(1)


def login(app, client, username, agencies, roles=("desk",)):
    accounts.create_account(app.extensions["motcua"].store, username, "Cán bộ " + username, list(roles), agencies, PASSWORD)
    token = csrf(client, "/staff/login")
    response = client.post("/staff/login", data={"username": username, "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302, response.get_data(as_text=True)


def test_public_page_shows_the_figures_the_vietnamese_way(client, stored):
    html = client.get(f"/thong-ke?year=2025&quarter=1&agency={AGENCY_A}").get_data(as_text=True)
    assert "66,67%" in html and "58,33%" in html and "Đạt chỉ tiêu 20,00%" in html
    # Charts are inline SVG, accessible, with the numbers also in tables.
    svgs = re.findall(r"<svg[^>]*>.*?</svg>", html, re.S)
    assert len(svgs) >= 5
    for svg in svgs:
        assert 'role="img"' in svg and "<title" in svg and "<desc" in svg
    assert html.count("<table") >= 5
    assert "<script" not in html.split("<main", 1)[1].split("</main>", 1)[0]  # nothing needs JavaScript
    # The overdue list is for staff only.
    assert "Hồ sơ đang quá hạn" not in html and dossiers()["A9"].code not in html


def test_all_agencies_figures(client, stored):
    html = client.get("/thong-ke?year=2025&quarter=1").get_data(as_text=True)
    # A: 6 settled, 4 early/on time; B1 settled early -> 5 of 7 = 71,43%; 13 received, 8 online = 61,54%.
    assert "71,43%" in html and "61,54%" in html


def test_bad_period_is_a_clear_400(client, stored):
    response = client.get("/thong-ke?from=31/02/2025")
    assert response.status_code == 400
    assert "Ngày không hợp lệ" in response.get_data(as_text=True)
    assert client.get("/thong-ke?agency=<script>").status_code == 400
    assert client.get("/api/v1/stats?quarter=9").status_code == 400


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
def test_json_api(client, stored):
    data = client.get(f"/api/v1/stats?year=2025&quarter=1&agency={AGENCY_A}").get_json()
    assert data["period"]["from"] == "2025-01-01" and data["period"]["to"] == "2025-03-31"
    assert data["channels"]["online"] == {"count": 7, "share": 58.33}
    assert data["online_target"] == 20.0 and data["online_target_met"] is True
    t = data["totals"]
    assert (t["received"], t["settled"], t["early"], t["on_time"], t["late"], t["open"], t["open_overdue"]) == (12, 6, 2, 2, 2, 4, 1)
    assert t["on_time_rate"] == 66.67
    assert "overdue" not in data  # public: no list of dossiers
    assert sum(level["share"] for level in data["procedures"]["by_level"]) == pytest.approx(100.0)


def test_online_target_is_configurable(app, client, stored):
    app.config["STATS_ONLINE_TARGET"] = 0.65
    data = client.get(f"/api/v1/stats?year=2025&quarter=1&agency={AGENCY_A}").get_json()
    assert data["online_target"] == 65.0 and data["online_target_met"] is False
    assert "Chưa đạt chỉ tiêu 65,00%" in client.get(f"/thong-ke?year=2025&quarter=1&agency={AGENCY_A}").get_data(as_text=True)


def test_csv_downloads_are_utf8_with_bom(client, stored):
    response = client.get(f"/thong-ke/thu-tuc.csv?year=2025&quarter=1&agency={AGENCY_A}")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    raw = response.get_data()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0][:3] == ["Mã thủ tục", "Tên thủ tục", "Lĩnh vực"]
    birth = next(r for r in rows if r[0] == "1.001193")
    assert birth[1] == "Đăng ký khai sinh" and birth[2] == "Hộ tịch"
    header = rows[0]
    assert birth[header.index("Tiếp nhận mới")] == "11"
    summary = dict(csv.reader(io.StringIO(client.get(f"/thong-ke/tong-hop.csv?year=2025&quarter=1&agency={AGENCY_A}").get_data().decode("utf-8-sig"))))
    assert summary["Tỷ lệ giải quyết đúng hạn"] == "66.67"
    assert client.get("/thong-ke/qua-han.csv?year=2025").status_code == 404  # staff only
    assert client.get("/thong-ke/khong-co.csv").status_code == 404


def test_staff_dashboard_needs_login(client, stored):
    response = client.get("/staff/thong-ke")
    assert response.status_code == 302 and "/staff/login" in response.headers["Location"]
    assert client.get("/staff/thong-ke/qua-han.csv").status_code == 302


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
def test_staff_dashboard_shows_own_agency_and_overdue_list(app, client, stored):
    login(app, client, "canbo-a", [AGENCY_A])
    html = client.get("/staff/thong-ke?year=2025").get_data(as_text=True)
    assert "Hồ sơ đang quá hạn" in html
    overdue = html.split('id="qua-han"')[1]
    assert stored["A9"].code in overdue  # open and past due
    assert stored["A10"].code not in overdue  # paused: its clock stands still
    data_rows = list(csv.reader(io.StringIO(client.get("/staff/thong-ke/qua-han.csv?year=2025").get_data().decode("utf-8-sig"))))
    assert [r[0] for r in data_rows[1:]] == OVERDUE_NOW(stored)
    # Another agency's figures are refused.
    assert client.get(f"/staff/thong-ke?agency={AGENCY_B}").status_code == 403


def test_staff_of_another_agency_sees_nothing_of_a(app, client, stored):
    login(app, client, "canbo-b", [AGENCY_B])
    html = client.get("/staff/thong-ke?year=2025").get_data(as_text=True)
    assert stored["A9"].code not in html
    rows = list(csv.reader(io.StringIO(client.get("/staff/thong-ke/tong-hop.csv?year=2025").get_data().decode("utf-8-sig"))))
    assert dict(rows[1:])["Tiếp nhận mới"] == "1"  # B1 only


def test_cli_table_json_csv(app, stored, tmp_path):
    data_dir = app.config["DATA_DIR"]
    specs = app.config["SPECS_DIR"]
    runner = CliRunner()
    result = runner.invoke(main, ["stats", "--data", data_dir, "--specs", specs, "--year", "2025", "--quarter", "1", "--agency", AGENCY_A])
    assert result.exit_code == 0, result.output
    assert "Quý 1/2025" in result.output
    assert re.search(r"Tỷ lệ giải quyết đúng hạn\s+66,67", result.output)
    result = runner.invoke(main, ["stats", "--data", data_dir, "--specs", specs, "--from", "2025-01-01", "--to", "2025-03-31",
                                  "--agency", AGENCY_A, "--format", "json"])
    data = json.loads(result.output)
    assert data["totals"]["received"] == 12 and [o["code"] for o in data["overdue"]] == OVERDUE_NOW(stored)
    result = runner.invoke(main, ["stats", "--data", data_dir, "--specs", specs, "--year", "2025", "--quarter", "1",
                                  "--agency", AGENCY_A, "--format", "csv", "--table", "kenh-nop"])
    rows = list(csv.reader(io.StringIO(result.output)))
    assert rows[1:] == [["Trực tuyến", "7", "58.33"], ["Trực tiếp", "4", "33.33"], ["Bưu chính công ích", "1", "8.33"]]
    result = runner.invoke(main, ["stats", "--data", data_dir, "--specs", specs, "--quarter", "7"])
    assert result.exit_code != 0 and "Traceback" not in result.output


def test_cli_counts_the_published_catalogue_like_the_web_page(app, client, tmp_path):
    """A procedure published in the authoring studio is served (not in the --specs folder):
    `motcua stats` counts it, as the statistics page and the API do (docs/statistics.md)."""
    from motcua import studio

    svc = app.extensions["motcua"]
    text = svc.catalogue.paths["1.001193"].read_text(encoding="utf-8")
    new_text = text.replace('code: "1.001193"', 'code: "9.999001"', 1)
    assert new_text != text
    store = svc.store
    studio.create(store, "9.999001", new_text, "soan", [s.code for s in svc.catalogue])
    studio.submit(store, "9.999001", "soan", None, svc.agencies)
    studio.approve(store, "9.999001", "quantri", None, None, svc.agencies)
    folder_count = len(svc.catalogue)
    fresh = create_app_like(app)  # a new start serves the publication
    try:
        web = fresh.test_client().get("/api/v1/stats?year=2025").get_json()["procedures"]["total"]
    finally:
        fresh.extensions["motcua"].store.close()
    assert web == folder_count + 1
    store.close()  # the command opens the store itself
    result = CliRunner().invoke(main, ["stats", "--data", app.config["DATA_DIR"], "--specs", app.config["SPECS_DIR"],
                                       "--year", "2025", "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["procedures"]["total"] == web


def create_app_like(app):
    from motcua.app import create_app

    return create_app({k: app.config[k] for k in ("DATA_DIR", "SPECS_DIR", "TESTING", "STORE")})
