"""Statistics per agency and per tier, on known dossiers counted by hand.

Commune A (the first office performing birth registration) holds the dossiers of
tests/stats_fixtures.py, whose Q1 2025 figures tests/test_stats_figures.py counts one by one;
agency B (000.00.99.H99) is in no spec nor registry, so its tier is "other". Commune C (another
commune office performing marriage registration) gets six dossiers here: one online, five at
the desk, all in Q1 2025, so its online share is 1/6 = 16.67%, under the 20% target. Every
other commune office of the catalogue has no dossier. The offices are read from the
catalogue (`motcua.offices`), so the same figures hold with the specs' own agency blocks and
with the agency registry.
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
from motcua.offices import TIERS, Office, offices, performers, procedures_of
from motcua.spec.model import Level
from motcua.stats import period as periods
from motcua.stats.report import compute
from motcua.stats.source import build_report
from stats_fixtures import AGENCY_A as FIXTURE_AGENCY, AGENCY_B, BIRTH, PHONE, at, dossiers, make

TODAY = date(2025, 7, 15)
MARRIAGE = "1.000894"

#: Agency A in Q1 2025, as tests/test_stats_figures.py counts it dossier by dossier.
A_Q1 = {
    "received": 12, "online": 7, "desk": 4, "postal": 1, "carried_over": 1, "settled": 6, "early": 2, "on_time": 2,
    "late": 2, "withdrawn": 1, "stopped": 2, "open": 4, "open_overdue": 1, "refused_at_intake": 2,
}


def communes(catalogue) -> tuple[str, str]:
    """(A, C): a commune office performing birth registration, another performing marriage."""
    a = performers(catalogue.get(BIRTH), catalogue)[0]
    c = next(code for code in performers(catalogue.get(MARRIAGE), catalogue) if code != a)
    known = offices(catalogue)
    assert known[a].tier == known[c].tier == "commune"
    return a, c


def fixture_dossiers(a: str) -> dict:
    """The fixture's dossiers, agency A's moved to commune A (same codes' numbers, days, events)."""
    return {label: d.model_copy(update={"agency_code": a, "code": d.code.replace(FIXTURE_AGENCY, a)})
            if d.agency_code == FIXTURE_AGENCY else d for label, d in dossiers().items()}


def commune_c(c: str):
    S = Status
    items = [make("C1", at(2025, 2, 3), date(2025, 2, 10), (at(2025, 2, 3), S.RECEIVED), (at(2025, 2, 7), S.FINISHED),
                  agency=c, procedure=MARRIAGE)]
    items += [make(f"C{n}", at(2025, 3, n), date(2025, 3, 20), (at(2025, 3, n), S.RECEIVED), channel="desk",
                   agency=c, procedure=MARRIAGE) for n in range(2, 7)]
    return items


@pytest.fixture
def stored(app):
    svc = app.extensions["motcua"]
    a, c = communes(svc.catalogue)
    svc.store.dossiers.add_many(list(fixture_dossiers(a).values()) + commune_c(c))
    return svc, a, c


def tally(row) -> dict:
    return {key: getattr(row.tally, key) for key in A_Q1}


def commune_tier_procedures(catalogue) -> int:
    """Procedures performed by at least one commune office: the commune tier's catalogue."""
    known = offices(catalogue)
    return sum(1 for spec in catalogue
               if any(code in known and known[code].tier == "commune" for code in performers(spec, catalogue)))


def test_every_figure_by_agency_and_by_tier(stored):
    svc, a, c = stored
    catalogue = svc.catalogue
    r = build_report(svc.store, catalogue, period=periods.quarter(2025, 1), today=TODAY)
    agencies = {row.key: row for row in r.by_agency}
    assert tally(agencies[a]) == A_Q1
    assert agencies[a].tally.online_share == Decimal("58.33")  # 7 / 12
    assert agencies[a].tally.on_time_rate == Decimal("66.67")  # (2 + 2) / 6
    b = agencies[AGENCY_B]
    assert (b.tier, b.name, b.procedures_total) == ("other", {"vi": AGENCY_B}, 0)  # in no spec nor registry
    assert (b.tally.received, b.tally.online, b.tally.settled, b.tally.early) == (1, 1, 1, 1)  # B1
    cc = agencies[c]
    assert cc.tier == "commune" and cc.name == offices(catalogue)[c].name
    # C1 online, settled early (07/02, due 10/02); C2-C6 at the desk, open
    assert (cc.tally.received, cc.tally.online, cc.tally.desk, cc.tally.settled, cc.tally.early, cc.tally.open) == (6, 1, 5, 1, 1, 5)
    assert cc.tally.online_share == Decimal("16.67") and cc.tally.on_time_rate == Decimal("100.00")
    # each office's own catalogue: what it performs
    assert cc.procedures_total == len(procedures_of(c, catalogue)) and MARRIAGE in {s.code for s in procedures_of(c, catalogue)}
    assert agencies[a].procedures_total == len(procedures_of(a, catalogue)) >= 1
    assert sum(lv.count for lv in cc.levels) == cc.procedures_total
    idle = [row for row in r.by_agency if row.tier == "commune" and row.key not in (a, c)]
    assert idle and all(not row.tally.active for row in idle)  # listed: they perform procedures

    tiers = {row.key: row for row in r.by_tier}
    assert list(tiers) == [t for t in TIERS if t in tiers] and {"commune", "other"} <= set(tiers)
    commune = tiers["commune"].tally
    assert commune.received == 12 + 6 and commune.online == 7 + 1 and commune.settled == 6 + 1
    assert commune.online_share == Decimal("44.44")  # 8 / 18
    assert tiers["other"].tally.received == 1
    assert tiers["commune"].procedures_total == commune_tier_procedures(catalogue)
    assert r.procedures_total == len(catalogue)
    # every agency's figures add up to the report's
    assert sum(row.tally.received for row in r.by_agency) == r.totals.received == 12 + 1 + 6


def test_tier_filter_keeps_only_that_tier(stored):
    svc, _a, _c = stored
    r = build_report(svc.store, svc.catalogue, period=periods.quarter(2025, 1), tier="commune", today=TODAY)
    assert r.totals.received == 18 and r.totals.online == 8
    assert {row.tier for row in r.by_agency} == {"commune"}
    assert r.procedures_total == commune_tier_procedures(svc.catalogue)
    other = build_report(svc.store, svc.catalogue, period=periods.quarter(2025, 1), tier="other", today=TODAY)
    assert (other.totals.received, other.procedures_total, [row.key for row in other.by_agency]) == (1, 0, [AGENCY_B])


def test_satisfaction_by_agency(stored):
    svc, a, c = stored
    items = fixture_dossiers(a)
    feedback.rate(svc.store, items["A1"].code, PHONE, 5, at=at(2025, 1, 20))
    feedback.rate(svc.store, items["A2"].code, PHONE, 4, at=at(2025, 2, 15))
    r = build_report(svc.store, svc.catalogue, period=periods.quarter(2025, 1), today=TODAY)
    agencies = {row.key: row for row in r.by_agency}
    s = agencies[a].satisfaction
    assert (s.count, s.average, s.satisfied_share) == (2, Decimal("4.50"), Decimal("100.00"))
    assert agencies[c].satisfaction.count == 0
    assert {row.key: row.satisfaction.count for row in r.by_tier}["commune"] == 2


def test_communes_reporting_form_worst_first(stored):
    svc, a, c = stored
    r = build_report(svc.store, svc.catalogue, period=periods.year(2025), today=TODAY)
    form = r.commune_online
    assert [row.code for row in form[:2]] == [c, a]
    cc, aa, rest = form[0], form[1], form[2:]
    assert [(q.quarter, q.received, q.online, q.share) for q in cc.quarters] == [
        (1, 6, 1, Decimal("16.67")), (2, 0, 0, None), (3, 0, 0, None), (4, 0, 0, None)]
    assert cc.met(r.online_target) is False
    # A: Q1 7 of 12 online; Q2 only A12 (filed 00:30 on 1 April, Vietnam time), online
    assert [(q.received, q.online, q.share) for q in aa.quarters[:2]] == [(12, 7, Decimal("58.33")), (1, 1, Decimal("100.00"))]
    assert aa.worst == Decimal("58.33") and aa.met(r.online_target) is True
    # every other commune office: no dossier in any quarter, last, by name
    assert rest and all(row.worst is None and row.met(r.online_target) is None for row in rest)
    assert [(row.name["vi"], row.code) for row in rest] == sorted((row.name["vi"], row.code) for row in rest)
    q2 = build_report(svc.store, svc.catalogue, period=periods.quarter(2025, 2), today=TODAY)
    assert (q2.commune_online[0].code, [q.quarter for q in q2.commune_online[0].quarters]) == (a, [2])
    assert q2.commune_online[0].worst == Decimal("100.00")
    assert all(row.worst is None for row in q2.commune_online[1:])  # C: nothing in Q2


def test_the_406_mix_for_the_catalogue_and_each_office(app):
    """406 procedures every commune performs (4 level 2, 191 level 3, 211 level 4) and 10 of a
    province department: each commune's catalogue is the seeds' 406, the whole catalogue is not."""
    base = app.extensions["motcua"].catalogue.get("1.001193")
    levels = [Level.FORMS] * 4 + [Level.PARTIAL] * 191 + [Level.FULL] * 211
    commune_specs = [base.model_copy(update={"code": f"1.{i:06d}", "level": lv}) for i, lv in enumerate(levels)]
    province_specs = [base.model_copy(update={"code": f"2.{i:06d}", "level": Level.FULL}) for i in range(10)]
    communes = ("000.00.01.H15", "000.00.02.H15", "000.00.03.H15")
    department = "000.01.00.H15"
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
    _svc, a, c = stored
    q1 = "year=2025&quarter=1"
    api = client.get(f"/api/v1/stats?{q1}").get_json()
    assert {key: api["by_agency"][a][key] for key in A_Q1} == A_Q1
    assert api["by_agency"][c]["online_share"] == 16.67
    assert api["by_tier"]["commune"]["received"] == 18 and api["by_tier"]["other"]["received"] == 1
    assert [row["agency"] for row in api["commune_online"][:2]] == [c, a]
    assert api["commune_online"][0]["target_met"] is False and api["commune_online"][1]["target_met"] is True
    communes = client.get(f"/api/v1/stats?{q1}&tier=commune").get_json()
    assert communes["tier"] == "commune" and communes["totals"]["received"] == 18
    bad = client.get(f"/api/v1/stats?{q1}&tier=huyen")
    assert bad.status_code == 400 and "Cấp cơ quan không hợp lệ" in bad.get_json()["error"]

    rows = list(csv.reader(io.StringIO(client.get(f"/thong-ke/co-quan.csv?{q1}").get_data().decode("utf-8-sig"))))
    header, body = rows[0], {row[0]: row for row in rows[1:]}
    assert body[a][header.index("Tiếp nhận mới")] == "12"
    assert body[c][header.index("Tỷ lệ hồ sơ trực tuyến (%)")] == "16.67"
    assert body[AGENCY_B][header.index("Cấp")] == "Khác"
    tiers = list(csv.reader(io.StringIO(client.get(f"/thong-ke/cap.csv?{q1}").get_data().decode("utf-8-sig"))))
    by_tier = {row[0]: row for row in tiers[1:]}
    assert by_tier["Cấp xã"][tiers[0].index("Tiếp nhận mới")] == "18"
    form = list(csv.reader(io.StringIO(client.get(f"/thong-ke/xa-truc-tuyen.csv?{q1}").get_data().decode("utf-8-sig"))))
    assert [row[0] for row in form[1:3]] == [c, a]
    assert form[1][-2:] == ["16.67", "Chưa đạt"] and form[2][-2:] == ["58.33", "Đạt"] and form[3][-2:] == ["", ""]

    base = ["stats", "--data", app.config["DATA_DIR"], "--specs", app.config["SPECS_DIR"], "--year", "2025", "--quarter", "1"]
    result = CliRunner().invoke(main, base + ["--tier", "commune", "--format", "json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert out["totals"]["received"] == 18 and set(out["by_tier"]) == {"commune"}
    result = CliRunner().invoke(main, base + ["--table", "xa-truc-tuyen"])
    assert result.exit_code == 0 and result.output.index(c) < result.output.index(a)

    page = client.get(f"/thong-ke?{q1}").get_data(as_text=True)
    order = [page.index(f'data-agency="{code}"') for code in (c, a)]
    assert order == sorted(order)
    assert f'href="/co-quan/{c}"' in page
    assert client.get(f"/thong-ke?{q1}&tier=x").status_code == 400
