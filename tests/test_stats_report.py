"""Every figure of the report on known dossiers stored in a real TinyDB folder."""

from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal

import pytest
from conftest import BACKENDS

from motcua import feedback
from motcua.dossier import Status
from motcua.spec.model import Level, PerformedBy
from motcua.stats import period as periods
from motcua.stats.numbers import fmt_int, fmt_percent, percent, shares
from motcua.stats.report import compute, level_rows
from motcua.stats.source import build_report
from stats_fixtures import AGENCY_A, AGENCY_B, BIRTH, OTHER, PHONE, at, dossiers

TODAY = date(2025, 7, 15)


@pytest.fixture
def stored(app):
    svc = app.extensions["motcua"]
    items = dossiers()
    svc.store.dossiers.add_many(items.values())
    return svc, items


def report_for(svc, period, agencies=(AGENCY_A,), today=TODAY):
    return build_report(svc.store, svc.catalogue, period=period, agencies=agencies, today=today)


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
def test_q1_every_figure(stored):
    svc, items = stored
    r = report_for(svc, periods.quarter(2025, 1))
    t = r.totals
    # A1-A6, A8-A10, A13-A15 filed in Q1; A7 and A16 were refused at intake, so not received.
    assert (t.received, t.online, t.desk, t.postal) == (12, 7, 4, 1)
    assert t.online_share == Decimal("58.33") and r.online_target_met is True  # 7 / 12
    assert t.carried_over == 1  # A11, filed in December, settled in January
    # Early A1 A14, on time A2 A5, late A3 A11; A7 and A16 (refused at intake) are not settled.
    assert (t.settled, t.early, t.on_time, t.late) == (6, 2, 2, 2)
    assert t.on_time_rate == Decimal("66.67")  # (2 early + 2 on time) / 6
    assert t.refused_at_intake == 2  # A7, A16: on their own line
    assert t.withdrawn == 1  # A6
    assert t.stopped == 2  # A13, and A15 (stopped on 31 March, resumed in April)
    assert r.as_of == date(2025, 3, 31)
    assert (t.open, t.open_overdue) == (4, 1)  # A4 A8 A9 A10 open; only A9 overdue (A10 is paused)
    # The one-stop report's identity: carried over + received = settled + withdrawn + stopped + open.
    assert t.carried_over + t.received == t.settled + t.withdrawn + t.stopped + t.open


def test_filed_in_one_quarter_settled_in_the_next(stored):
    svc, items = stored
    q1 = report_for(svc, periods.quarter(2025, 1))
    q2 = report_for(svc, periods.quarter(2025, 2))
    a4_q1 = next(r.tally for r in q1.by_procedure if r.code == BIRTH)
    assert a4_q1.received == 11  # A4 among them (A10 is another procedure)
    t = q2.totals
    # Q2: A12 (filed 00:30 on 1 April in Vietnam, still 31 March in UTC) is Q2's only new one.
    assert (t.received, t.online) == (1, 1)
    assert t.carried_over == 6  # A4 A8 A9 A10 were open on 31 March, A13 A15 stopped
    assert (t.settled, t.early, t.on_time, t.late) == (2, 2, 0, 0)  # A4 settled 1 April, A15 15 April
    assert t.on_time_rate == Decimal("100.00")
    assert t.stopped == 1  # A13 still stopped on 30 June; A15 resumed and settled
    assert (t.open, t.open_overdue) == (4, 1)  # A8 A9 A10 A12
    assert t.carried_over + t.received == t.settled + t.withdrawn + t.stopped + t.open


def test_paused_clock_extends_the_due_date_so_the_dossier_is_on_time(stored):
    svc, items = stored
    a5 = items["A5"]
    r = compute([a5], period=periods.quarter(2025, 1), today=TODAY)
    assert (r.totals.settled, r.totals.on_time, r.totals.late) == (1, 1, 0)


def test_vietnam_time_decides_the_period():
    a12 = dossiers()["A12"]
    assert a12.filed_at.astimezone(timezone.utc).date() == date(2025, 3, 31)
    assert compute([a12], period=periods.quarter(2025, 1), today=TODAY).totals.received == 0
    assert compute([a12], period=periods.quarter(2025, 2), today=TODAY).totals.received == 1


def test_agency_filter_and_all_agencies(stored):
    svc, _items = stored
    only_b = report_for(svc, periods.quarter(2025, 1), agencies=[AGENCY_B])
    assert (only_b.totals.received, only_b.totals.settled, only_b.totals.early) == (1, 1, 1)
    everyone = report_for(svc, periods.year(2025), agencies=None)
    assert everyone.totals.received == 14  # 12 in Q1 + A12 + B1
    assert everyone.totals.settled == 9  # Q1's 6 + A4 + A15 + B1


def test_per_procedure_and_per_sector(stored):
    svc, _items = stored
    r = report_for(svc, periods.quarter(2025, 1))
    rows = {p.code: p for p in r.by_procedure}
    assert set(rows) == {BIRTH, OTHER}
    assert rows[BIRTH].name["vi"] == "Đăng ký khai sinh"
    assert rows[BIRTH].sector["vi"] == "Hộ tịch"
    assert rows[OTHER].name == {"vi": OTHER}  # in no catalogue and no snapshot
    assert (rows[BIRTH].tally.received, rows[OTHER].tally.received) == (11, 1)
    assert rows[OTHER].tally.open == 1 and rows[OTHER].tally.open_overdue == 0
    sectors = {s.sector["vi"]: s.tally for s in r.by_sector}
    assert sectors["Hộ tịch"].received == 11 and sectors["Không rõ"].received == 1
    assert sum(s.received for s in sectors.values()) == r.totals.received


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
def test_overdue_list_is_open_past_due_today_and_not_paused(stored):
    svc, items = stored
    r = report_for(svc, periods.year(2025), agencies=None)
    assert [row.code for row in r.overdue] == [items["A9"].code]
    row = r.overdue[0]
    assert row.due == date(2025, 2, 20) and row.days_overdue == (TODAY - date(2025, 2, 20)).days
    assert row.status == Status.PROCESSING


def test_withdrawn_and_refused_are_counted_apart(stored):
    svc, items = stored
    r = compute([items["A6"], items["A7"]], period=periods.quarter(2025, 1), today=TODAY)
    assert (r.totals.withdrawn, r.totals.settled, r.totals.refused_at_intake, r.totals.open) == (1, 0, 1, 0)
    assert (r.totals.received, r.totals.on_time_rate) == (1, None)  # A6 only; nothing settled


def test_satisfaction_from_ratings(stored):
    svc, items = stored
    feedback.rate(svc.store, items["A1"].code, PHONE, 5, "Nhanh chóng", at=at(2025, 1, 20))
    feedback.rate(svc.store, items["A2"].code, "+84 912 345 678", "4", at=at(2025, 2, 15))
    r = report_for(svc, periods.quarter(2025, 1))
    s = r.satisfaction
    assert (s.count, s.average, s.satisfied_share) == (2, Decimal("4.50"), Decimal("100.00"))
    assert s.distribution == {1: 0, 2: 0, 3: 0, 4: 1, 5: 1}
    assert report_for(svc, periods.quarter(2025, 2)).satisfaction.count == 0
    assert report_for(svc, periods.quarter(2025, 1), agencies=[AGENCY_B]).satisfaction.count == 0


def test_rating_rules(stored):
    svc, items = stored
    with pytest.raises(feedback.Invalid) as wrong:
        feedback.rate(svc.store, items["A1"].code, "0987654321", 5)
    assert "không đúng" in wrong.value.errors["factor"]
    with pytest.raises(feedback.Invalid) as unknown:
        feedback.rate(svc.store, "000.00.31.H12-250101-9999", PHONE, 5)
    assert unknown.value.errors == wrong.value.errors  # no hint that a code exists
    with pytest.raises(feedback.Invalid) as not_returned:
        feedback.rate(svc.store, items["A3"].code, PHONE, 3)  # finished, not yet returned
    assert "đã trả kết quả" in not_returned.value.errors["code"]
    with pytest.raises(feedback.Invalid) as bad_score:
        feedback.rate(svc.store, items["A1"].code, PHONE, 6)
    assert "score" in bad_score.value.errors
    feedback.rate(svc.store, items["A1"].code, "001090000001", 3)  # the CCCD works too
    with pytest.raises(feedback.Invalid) as twice:
        feedback.rate(svc.store, items["A1"].code, PHONE, 5)
    assert "một lần" in twice.value.errors["code"]
    assert feedback.rating_of(svc.store, items["A1"].code).score == 3


def test_levels_of_the_seed_example(app):
    """406 procedures: 4 at level 2, 191 at level 3, 211 at level 4 (the seeds' own figures)."""
    base = app.extensions["motcua"].catalogue.get(BIRTH)
    levels = [Level.FORMS] * 4 + [Level.PARTIAL] * 191 + [Level.FULL] * 211
    specs = [base.model_copy(update={"code": f"1.{i:06d}", "level": lv}) for i, lv in enumerate(levels)]
    rows, total = level_rows(specs, None)
    assert total == 406
    assert [(r.level, r.count, r.share) for r in rows] == [
        (1, 0, Decimal("0.00")), (2, 4, Decimal("0.99")), (3, 191, Decimal("47.04")), (4, 211, Decimal("51.97")),
    ]
    assert sum(r.share for r in rows) == Decimal("100.00")
    other_agency = [s.model_copy(update={"performed_by": PerformedBy(agencies=["000.00.01.H01"])}) for s in specs[:10]]
    rows, total = level_rows(specs + other_agency, frozenset({"000.00.01.H01"}))
    assert total == 10


def test_shares_always_add_up_to_100():
    assert sum(shares([1, 1, 1])) == Decimal("100.00")
    assert shares([1, 1, 1]) == [Decimal("33.34"), Decimal("33.33"), Decimal("33.33")]
    assert shares([0, 0]) == [Decimal("0.00"), Decimal("0.00")]
    assert percent(2, 3) == Decimal("66.67") and percent(1, 0) is None


def test_vietnamese_number_format():
    assert fmt_int(1234) == "1.234" and fmt_int(1234567) == "1.234.567" and fmt_int(12) == "12"
    assert fmt_percent(Decimal("47.04")) == "47,04%"
    assert fmt_percent(Decimal("1234.5")) == "1.234,50%"
    assert fmt_percent(Decimal("47.04"), "en") == "47.04%" and fmt_int(1234, "en") == "1,234"
    assert fmt_percent(None) == "–"


@pytest.mark.parametrize(
    "params, expected",
    [
        ({}, (date(2025, 1, 1), date(2025, 12, 31))),
        ({"year": "2024"}, (date(2024, 1, 1), date(2024, 12, 31))),
        ({"year": "2024", "quarter": "1"}, (date(2024, 1, 1), date(2024, 3, 31))),
        ({"year": "2024", "month": "2"}, (date(2024, 2, 1), date(2024, 2, 29))),
        ({"year": "2024", "quarter": "4", "month": "2"}, (date(2024, 2, 1), date(2024, 2, 29))),
        ({"from": "2025-02-01", "to": "10/03/2025"}, (date(2025, 2, 1), date(2025, 3, 10))),
        ({"from": "2025-02-01"}, (date(2025, 2, 1), TODAY)),
    ],
)
def test_period_parameters(params, expected):
    p = periods.parse(params, today=TODAY)
    assert (p.start, p.end) == expected


@pytest.mark.parametrize(
    "params", [{"year": "abc"}, {"quarter": "5"}, {"month": "13"}, {"from": "31/02/2025"}, {"from": "2025-03-01", "to": "2025-02-01"}]
)
def test_bad_period_parameters_say_why_in_vietnamese(params):
    with pytest.raises(periods.PeriodError) as error:
        periods.parse(params, today=TODAY)
    assert any(word in str(error.value) for word in ("Năm", "Quý", "Tháng", "Ngày"))


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
def test_a_report_reads_only_what_can_count_and_gets_the_figures_of_every_dossier(stored):
    """`build_report` asks the store for the dossiers still active in the period
    (`summaries(active_since=)`); every figure and name must be what a pass over every
    dossier gives, for old history, boundary days, scopes and a period still to come."""
    from motcua.workdays import Calendar

    svc, _items = stored
    store, catalogue = svc.store, svc.catalogue
    S = Status
    birth = catalogue.get(BIRTH)
    # OTHER is gone from the catalogue: its rows are named from the spec it was first seen under
    for version, name in (("1", "Tên cũ của thủ tục"), ("2", "Tên mới của thủ tục")):
        old = birth.model_copy(update={"code": OTHER, "version": version, "name": {"vi": name, "en": name}})
        store.records("spec_versions").put(old.key, old.model_dump(mode="json", by_alias=True))
    from stats_fixtures import make

    history = [
        # closed long before 2025: none of the 2025 figures may change by leaving them out
        make("H1", at(2023, 3, 1), date(2023, 3, 10), (at(2023, 3, 2), S.RECEIVED), (at(2023, 3, 8), S.FINISHED)),
        make("H2", at(2023, 5, 1), date(2023, 5, 10), (at(2023, 5, 2), S.WITHDRAWN), procedure=OTHER),
        make("H3", at(2024, 6, 1), date(2024, 6, 10), (at(2024, 6, 2), S.REFUSED), agency=AGENCY_B),
        # settled 23:30 on 31/12/2024 in Vietnam (16:30 UTC): closed before 2025
        make("H4", at(2024, 12, 20), date(2025, 1, 3), (at(2024, 12, 31, 23, 30), S.FINISHED)),
        # settled 00:30 on 01/01/2025 in Vietnam (17:30 UTC on 31/12): carried over into 2025
        make("H5", at(2024, 12, 21), date(2025, 1, 3), (at(2025, 1, 1, 0, 30), S.FINISHED)),
        make("H6", at(2024, 8, 1), date(2024, 8, 10), (at(2024, 8, 2), S.RECEIVED)),  # open since 2024, overdue
        make("H7", at(2024, 9, 1), date(2024, 9, 20), (at(2024, 9, 2), S.STOPPED)),  # stopped since 2024
    ]
    history[1].spec_version = "1"
    store.dossiers.add_many(history)
    later = make("H8", at(2025, 5, 5), date(2025, 12, 30), (at(2025, 5, 5), S.RECEIVED), procedure=OTHER)
    later.spec_version = "2"
    store.dossiers.add(later)
    everything = list(store.dossiers.summaries())
    assert len(everything) == 17 + 8

    from motcua.catalogue import spec_of

    def full_pass(period, agencies, tier, today):
        describe = lambda code, key: (lambda s: (s.name, s.sector) if s else None)(spec_of(store, key))  # noqa: E731
        return compute(everything, period=period, today=today, specs=catalogue, agencies=agencies, tier=tier,
                       ratings=(v for _k, v in store.records("ratings").all()), describe=describe,
                       calendar=Calendar.load())

    cases = [(periods.year(2025), None, None, TODAY), (periods.year(2025), [AGENCY_A], None, TODAY),
             (periods.year(2025), None, "commune", TODAY), (periods.quarter(2025, 1), [AGENCY_B], None, TODAY),
             (periods.year(2024), None, None, TODAY), (periods.month(2025, 1), None, None, date(2025, 1, 1)),
             (periods.year(2026), None, None, TODAY),  # still to come: as_of is today, before its start
             (periods.span(date(2024, 12, 31), date(2025, 1, 1)), None, None, TODAY)]
    cases += [(periods.month(2025, m), None, None, TODAY) for m in range(1, 13)]
    for period, agencies, tier, today in cases:
        read = build_report(store, catalogue, period=period, agencies=agencies, tier=tier, today=today)
        assert read.to_dict(with_overdue=True) == full_pass(period, agencies, tier, today).to_dict(with_overdue=True), (
            period, agencies, tier)
    year = build_report(store, catalogue, period=periods.year(2025), today=TODAY)
    names = {r.code: r.name["vi"] for r in year.by_procedure}
    assert names[OTHER] == "Tên cũ của thủ tục"  # first seen under version 1 (H2, closed in 2023)
    assert year.totals.carried_over == 4  # A11, H5, H6, H7; not H4 (closed 31/12/2024 in Vietnam time)
    assert year.totals.stopped == 2  # on 15/07: A13, and H7 stopped since 2024 (A15 resumed in April)
    # and the store did leave the old ones out
    active = {s.code for s in store.dossiers.summaries(active_since=date(2025, 1, 1))}
    assert {h.code for h in history[:4]}.isdisjoint(active) and {h.code for h in history[4:]} <= active
