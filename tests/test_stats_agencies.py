"""Statistics per agency and per tier, on known dossiers counted by hand.

Agency A (000.00.31.H12, a commune office in the shipped catalogue) holds the dossiers of
tests/stats_fixtures.py, whose Q1 2025 figures tests/test_stats_figures.py counts one by one;
agency B (000.00.99.H99) is in no spec, so its tier is "other". Commune C (000.05.21.H12,
the commune office of the marriage spec) gets six dossiers here: one online, five at the
desk, all in Q1 2025, so its online share is 1/6 = 16.67%, under the 20% target.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from decimal import Decimal

import pytest
from click.testing import CliRunner

from motcua import feedback
from motcua.cli import main
from motcua.dossier import Status
from motcua.offices import Office
from motcua.spec.model import Level
from motcua.stats import period as periods
from motcua.stats.report import compute
from motcua.stats.source import build_report
from stats_fixtures import AGENCY_A, AGENCY_B, PHONE, at, dossiers, make

TODAY = date(2025, 7, 15)
COMMUNE_C = "000.05.21.H12"
POLICE_COMMUNE = "000.31.35.H12"  # a commune office of the catalogue with no dossier at all
MARRIAGE = "1.000894"

#: Agency A in Q1 2025, as tests/test_stats_figures.py counts it dossier by dossier.
A_Q1 = {
    "received": 12, "online": 7, "desk": 4, "postal": 1, "carried_over": 1, "settled": 6, "early": 2, "on_time": 2,
    "late": 2, "withdrawn": 1, "stopped": 2, "open": 4, "open_overdue": 1, "refused_at_intake": 2,
}


def commune_c():
    S = Status
    items = [make("C1", at(2025, 2, 3), date(2025, 2, 10), (at(2025, 2, 3), S.RECEIVED), (at(2025, 2, 7), S.FINISHED),
                  agency=COMMUNE_C, procedure=MARRIAGE)]
    items += [make(f"C{n}", at(2025, 3, n), date(2025, 3, 20), (at(2025, 3, n), S.RECEIVED), channel="desk",
                   agency=COMMUNE_C, procedure=MARRIAGE) for n in range(2, 7)]
    return items


@pytest.fixture
def stored(app):
    svc = app.extensions["motcua"]
    svc.store.dossiers.add_many(list(dossiers().values()) + commune_c())
    return svc


def tally(row) -> dict:
    return {key: getattr(row.tally, key) for key in A_Q1}


def test_every_figure_by_agency_and_by_tier(stored):
    r = build_report(stored.store, stored.catalogue, period=periods.quarter(2025, 1), today=TODAY)
    agencies = {row.key: row for row in r.by_agency}
    assert tally(agencies[AGENCY_A]) == A_Q1
    assert agencies[AGENCY_A].tally.online_share == Decimal("58.33")  # 7 / 12
    assert agencies[AGENCY_A].tally.on_time_rate == Decimal("66.67")  # (2 + 2) / 6
    b = agencies[AGENCY_B]
    assert (b.tier, b.name, b.procedures_total) == ("other", {"vi": AGENCY_B}, 0)  # in no spec
    assert (b.tally.received, b.tally.online, b.tally.settled, b.tally.early) == (1, 1, 1, 1)  # B1
    c = agencies[COMMUNE_C]
    assert c.tier == "commune" and c.name["vi"] == "Ủy ban nhân dân cấp xã"
    assert (c.tally.received, c.tally.online, c.tally.desk, c.tally.settled, c.tally.on_time, c.tally.open) == (6, 1, 5, 1, 0, 5)
    assert c.tally.early == 1 and c.tally.online_share == Decimal("16.67") and c.tally.on_time_rate == Decimal("100.00")
    assert agencies[POLICE_COMMUNE].tally.received == 0  # listed: it is in the catalogue
    # The commune office of the marriage spec performs four of the ten shipped specs.
    assert c.procedures_total == 4 and agencies[AGENCY_A].procedures_total == 1

    tiers = {row.key: row for row in r.by_tier}
    assert list(tiers) == ["province", "district", "commune", "other"]
    commune = tiers["commune"].tally
    assert commune.received == 12 + 6 and commune.online == 7 + 1 and commune.settled == 6 + 1
    assert commune.online_share == Decimal("44.44")  # 8 / 18
    assert (tiers["other"].tally.received, tiers["province"].tally.received) == (1, 0)
    assert tiers["commune"].procedures_total == 6  # 1 (A) + 4 (C) + 1 (commune police)
    assert sum(row.procedures_total for row in r.by_tier) == r.procedures_total == 10
    # every agency's figures add up to the report's
    assert sum(row.tally.received for row in r.by_agency) == r.totals.received == 12 + 1 + 6


def test_tier_filter_keeps_only_that_tier(stored):
    r = build_report(stored.store, stored.catalogue, period=periods.quarter(2025, 1), tier="commune", today=TODAY)
    assert r.totals.received == 18 and r.totals.online == 8
    assert {row.tier for row in r.by_agency} == {"commune"}
    assert r.procedures_total == 6
    other = build_report(stored.store, stored.catalogue, period=periods.quarter(2025, 1), tier="other", today=TODAY)
    assert (other.totals.received, other.procedures_total, [row.key for row in other.by_agency]) == (1, 0, [AGENCY_B])


def test_satisfaction_by_agency(stored):
    items = dossiers()
    feedback.rate(stored.store, items["A1"].code, PHONE, 5, at=at(2025, 1, 20))
    feedback.rate(stored.store, items["A2"].code, PHONE, 4, at=at(2025, 2, 15))
    r = build_report(stored.store, stored.catalogue, period=periods.quarter(2025, 1), today=TODAY)
    agencies = {row.key: row for row in r.by_agency}
    s = agencies[AGENCY_A].satisfaction
    assert (s.count, s.average, s.satisfied_share) == (2, Decimal("4.50"), Decimal("100.00"))
    assert agencies[COMMUNE_C].satisfaction.count == 0
    assert {row.key: row.satisfaction.count for row in r.by_tier}["commune"] == 2


def test_communes_reporting_form_worst_first(stored):
    r = build_report(stored.store, stored.catalogue, period=periods.year(2025), today=TODAY)
    assert [row.code for row in r.commune_online] == [COMMUNE_C, AGENCY_A, POLICE_COMMUNE]
    c, a, police = r.commune_online
    assert [(q.quarter, q.received, q.online, q.share) for q in c.quarters] == [
        (1, 6, 1, Decimal("16.67")), (2, 0, 0, None), (3, 0, 0, None), (4, 0, 0, None)]
    assert c.met(r.online_target) is False
    # A: Q1 7 of 12 online; Q2 only A12 (filed 00:30 on 1 April, Vietnam time), online
    assert [(q.received, q.online, q.share) for q in a.quarters[:2]] == [(12, 7, Decimal("58.33")), (1, 1, Decimal("100.00"))]
    assert a.worst == Decimal("58.33") and a.met(r.online_target) is True
    assert police.worst is None and police.met(r.online_target) is None
    q2 = build_report(stored.store, stored.catalogue, period=periods.quarter(2025, 2), today=TODAY)
    assert [(row.code, [q.quarter for q in row.quarters], row.worst) for row in q2.commune_online] == [
        # no dossier in Q2: last, by name ("Công an cấp xã" before "Ủy ban nhân dân cấp xã")
        (AGENCY_A, [2], Decimal("100.00")), (POLICE_COMMUNE, [2], None), (COMMUNE_C, [2], None)]


def test_the_406_mix_for_the_catalogue_and_each_office(app):
    """406 procedures every commune performs (4 level 2, 191 level 3, 211 level 4) and 10 of a
    province department: each commune's catalogue is the seeds' 406, the whole catalogue is not."""
    base = app.extensions["motcua"].catalogue.get("1.001193")
    levels = [Level.FORMS] * 4 + [Level.PARTIAL] * 191 + [Level.FULL] * 211
    commune_specs = [base.model_copy(update={"code": f"1.{i:06d}", "level": lv}) for i, lv in enumerate(levels)]
    province_specs = [base.model_copy(update={"code": f"2.{i:06d}", "level": Level.FULL}) for i in range(10)]
    communes = ("000.00.01.H12", "000.00.02.H12", "000.00.03.H12")
    department = "000.01.00.H12"
    offices = {code: Office(code, {"vi": f"UBND xã {code}"}, "commune") for code in communes}
    offices[department] = Office(department, {"vi": "Sở Tư pháp"}, "province")

    def performers(spec):
        return communes if spec.code.startswith("1.") else (department,)

    expected = [(1, 0, Decimal("0.00")), (2, 4, Decimal("0.99")), (3, 191, Decimal("47.04")), (4, 211, Decimal("51.97"))]
    only_communes = compute([], period=periods.year(2025), today=TODAY, specs=commune_specs, performers=performers,
                            offices=offices)
    assert [(lv.level, lv.count, lv.share) for lv in only_communes.levels] == expected
    r = compute([], period=periods.year(2025), today=TODAY, specs=commune_specs + province_specs, performers=performers,
                offices=offices)
    assert r.procedures_total == 416
    for row in r.by_agency:
        if row.tier == "commune":
            assert (row.procedures_total, [(lv.level, lv.count, lv.share) for lv in row.levels]) == (406, expected)
    tiers = {row.key: row for row in r.by_tier}
    assert [(lv.level, lv.count, lv.share) for lv in tiers["commune"].levels] == expected  # each procedure once
    assert tiers["province"].procedures_total == 10
    one = compute([], period=periods.year(2025), today=TODAY, specs=commune_specs + province_specs,
                  performers=performers, offices=offices, agencies=[communes[1]])
    assert (one.procedures_total, [(lv.level, lv.count, lv.share) for lv in one.levels]) == (406, expected)


# --- the same figures through every door --------------------------------------------------------------


def test_api_csv_cli_and_page_by_agency_and_tier(app, client, stored):
    q1 = "year=2025&quarter=1"
    api = client.get(f"/api/v1/stats?{q1}").get_json()
    assert {key: api["by_agency"][AGENCY_A][key] for key in A_Q1} == A_Q1
    assert api["by_agency"][COMMUNE_C]["online_share"] == 16.67
    assert api["by_tier"]["commune"]["received"] == 18 and api["by_tier"]["other"]["received"] == 1
    assert [row["agency"] for row in api["commune_online"]] == [COMMUNE_C, AGENCY_A, POLICE_COMMUNE]
    assert api["commune_online"][0]["target_met"] is False
    communes = client.get(f"/api/v1/stats?{q1}&tier=commune").get_json()
    assert communes["tier"] == "commune" and communes["totals"]["received"] == 18
    bad = client.get(f"/api/v1/stats?{q1}&tier=huyen")
    assert bad.status_code == 400 and "Cấp cơ quan không hợp lệ" in bad.get_json()["error"]

    rows = list(csv.reader(io.StringIO(client.get(f"/thong-ke/co-quan.csv?{q1}").get_data().decode("utf-8-sig"))))
    header, body = rows[0], {row[0]: row for row in rows[1:]}
    assert body[AGENCY_A][header.index("Tiếp nhận mới")] == "12"
    assert body[COMMUNE_C][header.index("Tỷ lệ hồ sơ trực tuyến (%)")] == "16.67"
    assert body[COMMUNE_C][header.index("Mức độ 3 (số thủ tục)")] != ""
    tiers = list(csv.reader(io.StringIO(client.get(f"/thong-ke/cap.csv?{q1}").get_data().decode("utf-8-sig"))))
    assert [row[0] for row in tiers[1:]] == ["Cấp tỉnh", "Cấp huyện", "Cấp xã", "Khác"]
    form = list(csv.reader(io.StringIO(client.get(f"/thong-ke/xa-truc-tuyen.csv?{q1}").get_data().decode("utf-8-sig"))))
    assert [row[0] for row in form[1:]] == [COMMUNE_C, AGENCY_A, POLICE_COMMUNE]
    assert form[1][-2:] == ["16.67", "Chưa đạt"] and form[2][-2:] == ["58.33", "Đạt"] and form[3][-2:] == ["", ""]

    result = CliRunner().invoke(main, ["stats", "--data", app.config["DATA_DIR"], "--specs", app.config["SPECS_DIR"],
                                       "--year", "2025", "--quarter", "1", "--tier", "commune", "--format", "json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert out["totals"]["received"] == 18 and set(out["by_tier"]) == {"commune"}
    result = CliRunner().invoke(main, ["stats", "--data", app.config["DATA_DIR"], "--specs", app.config["SPECS_DIR"],
                                       "--year", "2025", "--quarter", "1", "--table", "xa-truc-tuyen"])
    assert result.exit_code == 0 and result.output.index(COMMUNE_C) < result.output.index(AGENCY_A)

    page = client.get(f"/thong-ke?{q1}").get_data(as_text=True)
    order = [page.index(f'data-agency="{code}"') for code in (COMMUNE_C, AGENCY_A, POLICE_COMMUNE)]
    assert order == sorted(order)
    assert f'href="/co-quan/{COMMUNE_C}"' in page
    assert client.get(f"/thong-ke?{q1}&tier=x").status_code == 400
