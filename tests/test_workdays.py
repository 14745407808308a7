from datetime import date, datetime

from motcua.workdays import VN_TZ, Calendar

CAL = Calendar.load()


def test_weekends_and_holidays_are_skipped():
    # Thursday 30/4/2026 and Friday 1/5/2026 are days off; 2-3/5 are a weekend.
    assert CAL.add_working_days(date(2026, 4, 29), 1) == date(2026, 5, 4)


def test_same_day_procedure_received_after_three_pm_is_due_next_working_day():
    friday_late = datetime(2026, 11, 20, 15, 30, tzinfo=VN_TZ)
    assert CAL.due_date(friday_late, 0) == date(2026, 11, 23)
    friday_morning = datetime(2026, 11, 20, 9, 0, tzinfo=VN_TZ)
    assert CAL.due_date(friday_morning, 0) == date(2026, 11, 20)


def test_five_working_days_over_lunar_new_year():
    # Filed Friday 13/2/2026, Tết from 14/2 to 22/2.
    filed = datetime(2026, 2, 13, 9, 0, tzinfo=VN_TZ)
    assert CAL.due_date(filed, 5) == date(2026, 2, 27)


def test_working_days_between():
    assert CAL.working_days_between(date(2026, 11, 20), date(2026, 11, 24)) == 2
    assert CAL.working_days_between(date(2026, 11, 24), date(2026, 11, 20)) == -2


def test_afternoon_cutoff_applies_only_to_same_day_procedures():
    # Monday 5/10/2026: a 5-day procedure counts from the day received, whatever the hour.
    morning = datetime(2026, 10, 5, 10, 0, tzinfo=VN_TZ)
    evening = datetime(2026, 10, 5, 16, 0, tzinfo=VN_TZ)
    assert CAL.due_date(morning, 5) == CAL.due_date(evening, 5) == date(2026, 10, 12)


def test_a_year_without_holiday_data_is_logged(caplog):
    with caplog.at_level("WARNING", logger="motcua.workdays"):
        CAL.due_date(datetime(2031, 3, 3, 9, 0, tzinfo=VN_TZ), 1)
    assert "no holidays recorded for 2031" in caplog.text


def test_calendar_day_limits_count_every_day_and_end_on_a_working_day():
    # Filed Monday 16/11/2026; 10 calendar days end Thursday 26/11.
    filed = datetime(2026, 11, 16, 9, 0, tzinfo=VN_TZ)
    assert CAL.due_date(filed, 10, calendar_days=True) == date(2026, 11, 26)
    # 12 calendar days end on Saturday 28/11: due the next working day, Monday 30/11.
    assert CAL.due_date(filed, 12, calendar_days=True) == date(2026, 11, 30)
    assert CAL.due_date(filed, 10) == date(2026, 11, 30)
