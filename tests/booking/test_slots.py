"""Open slots as a patient sees them on the booking page, in the clinic's wall clock, including clock-change days.

Expected times are worked out by hand in the comments; the last test checks random schedules against a slow,
obvious implementation of the same rules.
"""

from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from booking.slots import Interval, SlotRules, WorkingBlock, micros, open_slots, open_starts, padded

NY = ZoneInfo("America/New_York")
SYDNEY = ZoneInfo("Australia/Sydney")

MONDAY = date(2026, 6, 8)  # June: New York on EDT (-04:00)
WEDNESDAY = date(2026, 6, 10)
SPRING_FORWARD_NY = date(2026, 3, 8)  # Sunday: 02:00 EST → 03:00 EDT
FALL_BACK_NY = date(2026, 11, 1)  # Sunday: 02:00 EDT → 01:00 EST
AUTUMN_SYDNEY = date(2026, 4, 5)  # Sunday: 03:00 AEDT (+11) → 02:00 AEST (+10)
SPRING_SYDNEY = date(2026, 10, 4)  # Sunday: 02:00 AEST (+10) → 03:00 AEDT (+11)


def minutes(n: int) -> timedelta:
    return timedelta(minutes=n)


HALF_HOURLY = SlotRules(duration=minutes(30), step=minutes(30))


def at(day: date, hhmm: str, tz: ZoneInfo = NY) -> datetime:
    return datetime.combine(day, time.fromisoformat(hhmm), tzinfo=tz)


def span(day: date, start: str, end: str, tz: ZoneInfo = NY) -> Interval:
    return Interval(at(day, start, tz), at(day, end, tz))


def block(day: date, start: str, end: str) -> WorkingBlock:
    return WorkingBlock(day.weekday(), time.fromisoformat(start), time.fromisoformat(end))


def slots_on(
    day: date,
    *blocks: tuple[str, str],
    rules: SlotRules = HALF_HOURLY,
    tz: ZoneInfo = NY,
    busy: list[Interval] | tuple = (),
    time_off: list[Interval] | tuple = (),
    now: datetime | None = None,
) -> list[datetime]:
    """The open slots of one clinician over one whole local day, asked for the day before unless told."""
    window_start = datetime.combine(day, time(0), tzinfo=tz)
    return open_slots(
        rules=rules,
        clinic_tz=tz,
        working_hours=[block(day, start, end) for start, end in blocks],
        time_off=time_off,
        busy=busy,
        window_start=window_start,
        window_end=datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz),
        now=now or window_start - timedelta(days=1),
    )


def wall(slots: list[datetime], tz: ZoneInfo = NY) -> list[str]:
    return [slot.astimezone(tz).strftime("%H:%M") for slot in slots]


def wall_with_offset(slots: list[datetime], tz: ZoneInfo = NY) -> list[str]:
    """'01:30-04:00': the wall clock and its UTC offset, as the booking page would show it."""
    return [slot.astimezone(tz).isoformat(timespec="minutes")[11:] for slot in slots]


def weekday_wall(slots: list[datetime], tz: ZoneInfo = NY) -> list[str]:
    return [slot.astimezone(tz).strftime("%a %H:%M") for slot in slots]


def grid(first: str, last: str, every: int = 30) -> list[str]:
    """Wall-clock times from `first` to `last` inclusive, `every` minutes apart (plain clock arithmetic)."""
    start, end = (int(hhmm[:2]) * 60 + int(hhmm[3:]) for hhmm in (first, last))
    return [f"{m // 60:02d}:{m % 60:02d}" for m in range(start, end + 1, every)]


def gaps(slots: list[datetime]) -> list[timedelta]:
    return [later - earlier for earlier, later in pairwise(slots)]


# A plain day and breaks


def test_a_morning_block_offers_every_half_hour_that_fits():
    slots = slots_on(WEDNESDAY, ("09:00", "12:00"))
    assert wall(slots) == ["09:00", "09:30", "10:00", "10:30", "11:00", "11:30"]
    assert slots[0] == datetime(2026, 6, 10, 13, 0, tzinfo=UTC)  # 09:00 EDT


def test_slots_come_back_in_utc_sorted():
    slots = slots_on(WEDNESDAY, ("13:00", "17:00"), ("09:00", "12:00"))
    assert all(slot.tzinfo is UTC for slot in slots)
    assert slots == sorted(slots)
    assert slots[0].isoformat() == "2026-06-10T13:00:00+00:00"


def test_a_lunch_break_has_no_slot_in_it():
    slots = slots_on(WEDNESDAY, ("09:00", "12:00"), ("13:00", "17:00"))
    assert wall(slots) == grid("09:00", "11:30") + grid("13:00", "16:30")
    assert [t for t in wall(slots) if t.startswith("12:")] == []


def test_a_longer_appointment_must_end_by_lunch_and_by_closing():
    rules = SlotRules(duration=minutes(45), step=minutes(30))
    slots = slots_on(WEDNESDAY, ("09:00", "12:00"), ("13:00", "17:00"), rules=rules)
    # 11:30 would end 12:15 and 16:30 would end 17:15.
    assert wall(slots) == grid("09:00", "11:00") + grid("13:00", "16:00")
    assert all(slot + minutes(45) <= at(WEDNESDAY, "12:00") or slot >= at(WEDNESDAY, "13:00") for slot in slots)


def test_recovery_must_fit_in_working_hours_but_buffers_need_not():
    with_recovery = SlotRules(duration=minutes(30), step=minutes(30), recovery=minutes(30))
    with_buffers = SlotRules(
        duration=minutes(30), step=minutes(30), buffer_before=minutes(30), buffer_after=minutes(30)
    )
    assert wall(slots_on(WEDNESDAY, ("09:00", "12:00"), rules=with_recovery)) == grid("09:00", "11:00")
    assert wall(slots_on(WEDNESDAY, ("09:00", "12:00"), rules=with_buffers)) == grid("09:00", "11:30")


def test_a_block_too_short_for_the_appointment_offers_nothing():
    assert slots_on(WEDNESDAY, ("09:00", "09:29")) == []
    assert wall(slots_on(WEDNESDAY, ("09:00", "09:30"))) == ["09:00"]


def test_the_step_grid_starts_at_each_block_start():
    rules = SlotRules(duration=minutes(30), step=minutes(20))
    # 09:10, 09:30, … up to 11:30 (ends 12:00); 11:50 would end 12:20.
    assert wall(slots_on(WEDNESDAY, ("09:10", "12:00"), rules=rules)) == grid("09:10", "11:30", every=20)


def test_duplicate_and_overlapping_blocks_give_each_start_once_in_order():
    slots = slots_on(WEDNESDAY, ("09:00", "12:00"), ("09:00", "12:00"), ("10:00", "11:00"), ("09:15", "10:15"))
    # 09:15–10:15 adds 09:15 and 09:45 on its own grid; 10:00–11:00 only repeats 10:00 and 10:30.
    assert wall(slots) == ["09:00", "09:15", "09:30", "09:45", "10:00", "10:30", "11:00", "11:30"]
    assert len(set(slots)) == len(slots)


def test_a_week_of_working_hours_gives_each_working_day_its_own_slots():
    hours = [
        WorkingBlock(0, time(9), time(10)),
        WorkingBlock(2, time(14), time(15)),
        WorkingBlock(4, time(9), time(10)),
    ]
    slots = open_slots(
        rules=HALF_HOURLY,
        clinic_tz=NY,
        working_hours=hours,
        time_off=[],
        busy=[],
        window_start=at(MONDAY, "00:00"),
        window_end=at(MONDAY + timedelta(days=7), "00:00"),
        now=at(MONDAY, "00:00"),
    )
    assert weekday_wall(slots) == ["Mon 09:00", "Mon 09:30", "Wed 14:00", "Wed 14:30", "Fri 09:00", "Fri 09:30"]


def test_no_working_hours_no_slots():
    assert slots_on(WEDNESDAY) == []


# Daylight saving time: slots are real half hours; the wall clock jumps or repeats.


def test_new_york_spring_forward_jumps_from_0130_to_0300():
    slots = slots_on(SPRING_FORWARD_NY, ("01:00", "05:00"))
    # 01:00 EST (06:00Z) to 05:00 EDT (09:00Z) is three real hours: six half-hour slots, not the eight
    # that the wall clock (01:00 … 04:30) suggests.
    assert wall_with_offset(slots) == [
        "01:00-05:00",
        "01:30-05:00",
        "03:00-04:00",
        "03:30-04:00",
        "04:00-04:00",
        "04:30-04:00",
    ]
    assert gaps(slots) == [minutes(30)] * 5
    assert slots[0] == datetime(2026, 3, 8, 6, 0, tzinfo=UTC)
    assert slots[-1] + minutes(30) == datetime(2026, 3, 8, 9, 0, tzinfo=UTC)


def test_new_york_spring_forward_office_hours_are_on_daylight_time():
    slots = slots_on(SPRING_FORWARD_NY, ("09:00", "17:00"))
    assert wall_with_offset(slots) == [f"{t}-04:00" for t in grid("09:00", "16:30")]
    assert slots[0] == datetime(2026, 3, 8, 13, 0, tzinfo=UTC)


def test_a_block_starting_in_the_skipped_hour_reads_it_with_the_old_offset():
    # 02:00 and 02:30 do not exist that night; fold=0 reads them as EST, i.e. 03:00 and 03:30 EDT.
    assert wall_with_offset(slots_on(SPRING_FORWARD_NY, ("02:00", "04:00"))) == ["03:00-04:00", "03:30-04:00"]
    assert wall_with_offset(slots_on(SPRING_FORWARD_NY, ("02:30", "04:00"))) == ["03:30-04:00"]


def test_the_same_opening_hour_before_and_after_spring_forward():
    hours = [WorkingBlock(weekday, time(9), time(10)) for weekday in range(7)]
    slots = open_slots(
        rules=HALF_HOURLY,
        clinic_tz=NY,
        working_hours=hours,
        time_off=[],
        busy=[],
        window_start=at(SPRING_FORWARD_NY - timedelta(days=1), "00:00"),
        window_end=at(SPRING_FORWARD_NY + timedelta(days=2), "00:00"),
        now=datetime(2026, 3, 1, tzinfo=UTC),
    )
    assert [slot.astimezone(NY).isoformat(timespec="minutes") for slot in slots] == [
        "2026-03-07T09:00-05:00",
        "2026-03-07T09:30-05:00",
        "2026-03-08T09:00-04:00",
        "2026-03-08T09:30-04:00",
        "2026-03-09T09:00-04:00",
        "2026-03-09T09:30-04:00",
    ]


def test_new_york_fall_back_offers_the_repeated_hour_twice():
    slots = slots_on(FALL_BACK_NY, ("00:00", "03:00"))
    # 00:00 EDT (04:00Z) to 03:00 EST (08:00Z) is four real hours: eight slots, 01:00 and 01:30 twice.
    assert wall_with_offset(slots) == [
        "00:00-04:00",
        "00:30-04:00",
        "01:00-04:00",
        "01:30-04:00",
        "01:00-05:00",
        "01:30-05:00",
        "02:00-05:00",
        "02:30-05:00",
    ]
    assert gaps(slots) == [minutes(30)] * 7
    assert slots[0] == datetime(2026, 11, 1, 4, 0, tzinfo=UTC)
    assert slots[-1] + minutes(30) == datetime(2026, 11, 1, 8, 0, tzinfo=UTC)


def test_a_block_at_an_ambiguous_time_starts_at_its_first_occurrence():
    # 01:00 EDT (05:00Z) to 02:00 EST (07:00Z): two real hours.
    assert wall_with_offset(slots_on(FALL_BACK_NY, ("01:00", "02:00"))) == [
        "01:00-04:00",
        "01:30-04:00",
        "01:00-05:00",
        "01:30-05:00",
    ]
    # Both ends ambiguous: 01:00 EDT to 01:30 EDT, one slot.
    assert wall_with_offset(slots_on(FALL_BACK_NY, ("01:00", "01:30"))) == ["01:00-04:00"]


def test_new_york_fall_back_office_hours_are_on_standard_time():
    slots = slots_on(FALL_BACK_NY, ("09:00", "17:00"))
    assert wall_with_offset(slots) == [f"{t}-05:00" for t in grid("09:00", "16:30")]
    assert slots[0] == datetime(2026, 11, 1, 14, 0, tzinfo=UTC)


def test_sydney_end_of_daylight_saving_repeats_two_to_three():
    slots = slots_on(AUTUMN_SYDNEY, ("00:00", "04:00"), tz=SYDNEY)
    # 00:00 AEDT (13:00Z the day before) to 04:00 AEST (18:00Z): five real hours, ten slots.
    assert wall_with_offset(slots, SYDNEY) == [
        "00:00+11:00",
        "00:30+11:00",
        "01:00+11:00",
        "01:30+11:00",
        "02:00+11:00",
        "02:30+11:00",
        "02:00+10:00",
        "02:30+10:00",
        "03:00+10:00",
        "03:30+10:00",
    ]
    assert gaps(slots) == [minutes(30)] * 9
    assert slots[0] == datetime(2026, 4, 4, 13, 0, tzinfo=UTC)
    # An ambiguous block start is its first occurrence: 02:00 AEDT (15:00Z) to 03:00 AEST (17:00Z).
    assert wall_with_offset(slots_on(AUTUMN_SYDNEY, ("02:00", "03:00"), tz=SYDNEY), SYDNEY) == [
        "02:00+11:00",
        "02:30+11:00",
        "02:00+10:00",
        "02:30+10:00",
    ]


def test_sydney_start_of_daylight_saving_skips_two_to_three():
    slots = slots_on(SPRING_SYDNEY, ("01:00", "05:00"), tz=SYDNEY)
    # 01:00 AEST (15:00Z the day before) to 05:00 AEDT (18:00Z): three real hours, six slots.
    assert wall_with_offset(slots, SYDNEY) == [
        "01:00+10:00",
        "01:30+10:00",
        "03:00+11:00",
        "03:30+11:00",
        "04:00+11:00",
        "04:30+11:00",
    ]
    assert gaps(slots) == [minutes(30)] * 5
    assert slots[0] == datetime(2026, 10, 3, 15, 0, tzinfo=UTC)


@pytest.mark.parametrize(("day", "offset"), [(AUTUMN_SYDNEY, "+10:00"), (SPRING_SYDNEY, "+11:00")])
def test_sydney_office_hours_on_clock_change_days(day, offset):
    slots = slots_on(day, ("09:00", "17:00"), tz=SYDNEY)
    assert wall_with_offset(slots, SYDNEY) == [f"{t}{offset}" for t in grid("09:00", "16:30")]


# Time off and existing appointments


def test_overlapping_time_off_blocks_only_the_time_it_covers():
    time_off = [span(WEDNESDAY, "10:00", "11:00"), span(WEDNESDAY, "10:30", "12:00")]
    slots = slots_on(WEDNESDAY, ("09:00", "17:00"), time_off=time_off)
    # 09:30–10:00 touches the time off and 12:00 starts as it ends: both stay open.
    assert wall(slots) == ["09:00", "09:30"] + grid("12:00", "16:30")


def test_time_off_touching_a_slot_end_does_not_block_it():
    slots = slots_on(WEDNESDAY, ("09:00", "12:00"), time_off=[span(WEDNESDAY, "09:30", "10:00")])
    assert wall(slots) == ["09:00", "10:00", "10:30", "11:00", "11:30"]


def test_time_off_given_in_another_zone_is_the_same_real_time():
    # 14:00–15:00 UTC is 10:00–11:00 in New York in June.
    time_off = [Interval(datetime(2026, 6, 10, 14, 0, tzinfo=UTC), datetime(2026, 6, 10, 15, 0, tzinfo=UTC))]
    slots = slots_on(WEDNESDAY, ("09:00", "12:00"), time_off=time_off)
    assert wall(slots) == ["09:00", "09:30", "11:00", "11:30"]


def test_a_holiday_spanning_days_closes_those_days_only():
    hours = [WorkingBlock(weekday, time(9), time(10)) for weekday in range(5)]
    holiday = Interval(at(MONDAY + timedelta(days=1), "00:00"), at(MONDAY + timedelta(days=3), "00:00"))
    slots = open_slots(
        rules=HALF_HOURLY,
        clinic_tz=NY,
        working_hours=hours,
        time_off=[holiday],
        busy=[],
        window_start=at(MONDAY, "00:00"),
        window_end=at(MONDAY + timedelta(days=7), "00:00"),
        now=at(MONDAY, "00:00"),
    )
    assert weekday_wall(slots) == ["Mon 09:00", "Mon 09:30", "Thu 09:00", "Thu 09:30", "Fri 09:00", "Fri 09:30"]


def test_an_appointment_longer_than_the_step_blocks_every_overlapping_start():
    # An infusion with its recovery holds the clinician 10:00–11:40.
    rules = SlotRules(duration=minutes(30), step=minutes(15))
    slots = slots_on(WEDNESDAY, ("09:00", "17:00"), rules=rules, busy=[span(WEDNESDAY, "10:00", "11:40")])
    # 09:30 ends as it begins; 11:45 is the first grid point after 11:40; 16:30 is the last that ends by 17:00.
    assert wall(slots) == ["09:00", "09:15", "09:30"] + grid("11:45", "16:30", every=15)


def test_the_first_slot_after_an_appointment_starts_exactly_when_it_ends():
    infusion = SlotRules(duration=minutes(40), recovery=minutes(60), step=minutes(15))
    slots = slots_on(WEDNESDAY, ("09:00", "17:00"), rules=infusion, busy=[span(WEDNESDAY, "10:00", "11:45")])
    # Each infusion holds 1 h 40: any start before 11:45 would run into 10:00; 15:15 is the last to end by 17:00.
    assert wall(slots) == grid("11:45", "15:15", every=15)


def test_back_to_back_nested_and_unsorted_appointments():
    busy = [
        span(WEDNESDAY, "13:00", "15:00"),
        span(WEDNESDAY, "09:00", "10:00"),
        span(WEDNESDAY, "10:00", "11:00"),
        span(WEDNESDAY, "13:30", "14:00"),  # inside 13:00–15:00: 14:00 and 14:30 stay taken
    ]
    slots = slots_on(WEDNESDAY, ("09:00", "17:00"), busy=busy)
    assert wall(slots) == grid("11:00", "12:30") + grid("15:00", "16:30")


def test_the_buffer_before_reaches_back_into_an_appointment_that_ran_over_lunch():
    rules = SlotRules(duration=minutes(30), step=minutes(30), buffer_before=minutes(15))
    slots = slots_on(WEDNESDAY, ("13:00", "15:00"), rules=rules, busy=[span(WEDNESDAY, "12:00", "12:50")])
    # 13:00 would need the clinician from 12:45, still busy until 12:50.
    assert wall(slots) == ["13:30", "14:00", "14:30"]


def test_a_fully_booked_day_offers_nothing():
    busy = [span(WEDNESDAY, f"{hour:02d}:00", f"{hour + 1:02d}:00") for hour in range(9, 17)]
    assert slots_on(WEDNESDAY, ("09:00", "17:00"), busy=busy) == []


# The new appointment's own buffers and recovery against an appointment held 12:00–13:00


@pytest.mark.parametrize(
    ("rules", "expected"),
    [
        pytest.param(HALF_HOURLY, grid("09:00", "11:30") + grid("13:00", "16:30"), id="no padding"),
        pytest.param(
            SlotRules(duration=minutes(30), step=minutes(30), buffer_before=minutes(15)),
            # [s - 15, s + 30) meets 12:00–13:00 for 12:00, 12:30 and 13:00; 09:00 may start its buffer before hours.
            grid("09:00", "11:30") + grid("13:30", "16:30"),
            id="buffer before",
        ),
        pytest.param(
            SlotRules(duration=minutes(30), step=minutes(30), buffer_after=minutes(15)),
            # [s, s + 45) meets it for 11:30, 12:00 and 12:30; 16:30 may end its buffer after hours.
            grid("09:00", "11:00") + grid("13:00", "16:30"),
            id="buffer after",
        ),
        pytest.param(
            SlotRules(duration=minutes(30), step=minutes(30), recovery=minutes(30)),
            # [s, s + 60) meets it for 11:30, 12:00 and 12:30; recovery must end by 17:00, so 16:00 is last.
            grid("09:00", "11:00") + grid("13:00", "16:00"),
            id="recovery",
        ),
        pytest.param(
            SlotRules(duration=minutes(30), step=minutes(30), buffer_before=minutes(15), buffer_after=minutes(15)),
            # [s - 15, s + 45) meets it for 11:30 to 13:00.
            grid("09:00", "11:00") + grid("13:30", "16:30"),
            id="both buffers",
        ),
    ],
)
def test_the_new_appointment_keeps_its_buffers_and_recovery_clear(rules, expected):
    assert (
        wall(slots_on(WEDNESDAY, ("09:00", "17:00"), rules=rules, busy=[span(WEDNESDAY, "12:00", "13:00")])) == expected
    )
    assert wall(slots_on(WEDNESDAY, ("09:00", "17:00"), rules=rules, time_off=[span(WEDNESDAY, "12:00", "13:00")])) == (
        expected
    )


# Notice, horizon and the requested window


def test_min_notice_counts_from_now():
    rules = SlotRules(duration=minutes(30), step=minutes(30), min_notice=timedelta(hours=2))
    # 10:07 + 2 h = 12:07, so the next half hour, 12:30.
    assert wall(slots_on(WEDNESDAY, ("09:00", "17:00"), rules=rules, now=at(WEDNESDAY, "10:07"))) == grid(
        "12:30", "16:30"
    )
    # Exactly two hours ahead is enough notice.
    assert wall(slots_on(WEDNESDAY, ("09:00", "17:00"), rules=rules, now=at(WEDNESDAY, "10:00"))) == grid(
        "12:00", "16:30"
    )


def test_now_in_any_zone_is_the_same_instant():
    rules = SlotRules(duration=minutes(30), step=minutes(30), min_notice=timedelta(hours=2))
    now_in_tokyo = at(WEDNESDAY, "10:07").astimezone(ZoneInfo("Asia/Tokyo"))
    assert wall(slots_on(WEDNESDAY, ("09:00", "17:00"), rules=rules, now=now_in_tokyo)) == grid("12:30", "16:30")


def test_without_min_notice_slots_already_started_are_not_offered():
    assert wall(slots_on(WEDNESDAY, ("09:00", "12:00"), now=at(WEDNESDAY, "10:01"))) == ["10:30", "11:00", "11:30"]
    assert wall(slots_on(WEDNESDAY, ("09:00", "12:00"), now=at(WEDNESDAY, "10:00"))) == [
        "10:00",
        "10:30",
        "11:00",
        "11:30",
    ]


def test_min_notice_is_real_time_across_the_spring_forward_gap():
    rules = SlotRules(duration=minutes(30), step=minutes(30), min_notice=timedelta(hours=2))
    # 01:30 EST (06:30Z) + 2 real hours = 08:30Z = 04:30 EDT (the wall clock would say 03:30).
    now = at(SPRING_FORWARD_NY, "01:30")
    assert wall_with_offset(slots_on(SPRING_FORWARD_NY, ("01:00", "05:00"), rules=rules, now=now)) == ["04:30-04:00"]


def test_the_horizon_includes_its_last_instant():
    rules = SlotRules(duration=minutes(30), step=minutes(30), horizon=timedelta(days=2))
    hours = [WorkingBlock(weekday, time(9), time(10)) for weekday in range(7)]
    slots = open_slots(
        rules=rules,
        clinic_tz=NY,
        working_hours=hours,
        time_off=[],
        busy=[],
        window_start=at(MONDAY, "00:00"),
        window_end=at(MONDAY + timedelta(days=7), "00:00"),
        now=at(MONDAY, "09:00"),
    )
    assert weekday_wall(slots) == ["Mon 09:00", "Mon 09:30", "Tue 09:00", "Tue 09:30", "Wed 09:00"]


def test_when_notice_and_horizon_meet_only_that_instant_is_offered():
    rules = SlotRules(duration=minutes(30), step=minutes(30), min_notice=timedelta(hours=2), horizon=timedelta(hours=2))
    assert wall(slots_on(WEDNESDAY, ("09:00", "17:00"), rules=rules, now=at(WEDNESDAY, "10:00"))) == ["12:00"]
    assert slots_on(WEDNESDAY, ("09:00", "17:00"), rules=rules, now=at(WEDNESDAY, "10:07")) == []


def test_the_horizon_is_real_time_across_a_clock_change():
    rules = SlotRules(duration=minutes(30), step=minutes(30), horizon=timedelta(days=1))
    # Saturday 09:00 EST (14:00Z) + 24 real hours = Sunday 14:00Z = 10:00 EDT.
    slots = slots_on(
        SPRING_FORWARD_NY, ("09:00", "17:00"), rules=rules, now=at(SPRING_FORWARD_NY - timedelta(days=1), "09:00")
    )
    assert wall(slots) == ["09:00", "09:30", "10:00"]


def test_only_slots_inside_the_window_with_its_end_excluded():
    slots = open_slots(
        rules=HALF_HOURLY,
        clinic_tz=NY,
        working_hours=[block(WEDNESDAY, "09:00", "17:00")],
        time_off=[],
        busy=[],
        window_start=at(WEDNESDAY, "10:10"),
        window_end=at(WEDNESDAY, "12:00"),
        now=at(WEDNESDAY, "08:00"),
    )
    assert wall(slots) == ["10:30", "11:00", "11:30"]


def test_a_window_in_utc_covers_the_clinic_evening_of_the_day_before():
    # Tuesday 02:00–04:00 UTC is Monday 22:00–24:00 in New York.
    slots = open_slots(
        rules=HALF_HOURLY,
        clinic_tz=NY,
        working_hours=[block(MONDAY, "21:00", "23:30")],
        time_off=[],
        busy=[],
        window_start=datetime(2026, 6, 9, 2, 0, tzinfo=UTC),
        window_end=datetime(2026, 6, 9, 4, 0, tzinfo=UTC),
        now=datetime(2026, 6, 1, tzinfo=UTC),
    )
    assert weekday_wall(slots) == ["Mon 22:00", "Mon 22:30", "Mon 23:00"]


def test_an_empty_or_reversed_window_offers_nothing():
    assert (
        open_slots(
            rules=HALF_HOURLY,
            clinic_tz=NY,
            working_hours=[block(WEDNESDAY, "09:00", "17:00")],
            time_off=[],
            busy=[],
            window_start=at(WEDNESDAY, "12:00"),
            window_end=at(WEDNESDAY, "12:00"),
            now=at(WEDNESDAY, "08:00"),
        )
        == []
    )


# Refused input

# Deliberately naive, as a caller forgetting the time zone would pass it.
NAIVE = datetime(2026, 6, 10, 9, 0)  # noqa: DTZ001
VALID = {
    "rules": HALF_HOURLY,
    "clinic_tz": NY,
    "working_hours": [block(WEDNESDAY, "09:00", "12:00")],
    "time_off": [span(WEDNESDAY, "11:00", "11:30")],
    "busy": [span(WEDNESDAY, "09:00", "09:30")],
    "window_start": at(WEDNESDAY, "00:00"),
    "window_end": at(WEDNESDAY, "23:00"),
    "now": at(WEDNESDAY, "08:00"),
}


def test_the_valid_arguments_used_below_do_give_slots():
    assert wall(open_slots(**VALID)) == ["09:30", "10:00", "10:30", "11:30"]


@pytest.mark.parametrize(
    "change",
    [
        pytest.param({"window_start": NAIVE}, id="naive window start"),
        pytest.param({"window_end": NAIVE}, id="naive window end"),
        pytest.param({"now": NAIVE}, id="naive now"),
        pytest.param({"busy": [Interval(NAIVE, at(WEDNESDAY, "10:00"))]}, id="naive busy start"),
        pytest.param({"busy": [Interval(at(WEDNESDAY, "08:00"), NAIVE)]}, id="naive busy end"),
        pytest.param({"time_off": [Interval(NAIVE, at(WEDNESDAY, "10:00"))]}, id="naive time off start"),
        pytest.param({"time_off": [Interval(at(WEDNESDAY, "08:00"), NAIVE)]}, id="naive time off end"),
        pytest.param({"rules": SlotRules(duration=timedelta(0), step=minutes(30))}, id="zero duration"),
        pytest.param({"rules": SlotRules(duration=minutes(-30), step=minutes(30))}, id="negative duration"),
        pytest.param({"rules": SlotRules(duration=minutes(30), step=timedelta(0))}, id="zero step"),
        pytest.param({"rules": SlotRules(duration=minutes(30), step=minutes(-15))}, id="negative step"),
        pytest.param(
            {"rules": SlotRules(duration=minutes(30), step=minutes(30), buffer_before=minutes(-5))},
            id="negative buffer before",
        ),
        pytest.param(
            {"rules": SlotRules(duration=minutes(30), step=minutes(30), buffer_after=minutes(-5))},
            id="negative buffer after",
        ),
        pytest.param(
            {"rules": SlotRules(duration=minutes(30), step=minutes(30), recovery=minutes(-5))}, id="negative recovery"
        ),
        pytest.param({"busy": [span(WEDNESDAY, "10:00", "10:00")]}, id="empty busy interval"),
        pytest.param({"time_off": [span(WEDNESDAY, "11:00", "10:00")]}, id="reversed time off"),
        pytest.param({"working_hours": [block(WEDNESDAY, "12:00", "09:00")]}, id="reversed working block"),
        pytest.param({"working_hours": [WorkingBlock(7, time(9), time(12))]}, id="weekday out of range"),
    ],
)
def test_invalid_input_is_refused(change):
    with pytest.raises(ValueError):
        open_slots(**(VALID | change))


# padded()


def test_padded_spans_buffers_appointment_and_recovery():
    rules = SlotRules(
        duration=minutes(40),
        step=minutes(15),
        buffer_before=minutes(10),
        recovery=minutes(60),
        buffer_after=minutes(5),
    )
    held = padded(datetime(2026, 6, 10, 14, 0, tzinfo=UTC), rules)
    # 14:00 - 10 min, 14:00 + 40 + 60 + 5 min.
    assert held == Interval(datetime(2026, 6, 10, 13, 50, tzinfo=UTC), datetime(2026, 6, 10, 15, 45, tzinfo=UTC))
    assert held.start.tzinfo is UTC and held.end.tzinfo is UTC


def test_padded_without_extras_is_the_appointment_itself():
    assert padded(at(WEDNESDAY, "10:00"), HALF_HOURLY) == span(WEDNESDAY, "10:00", "10:30")


def test_padded_is_real_time_across_a_clock_change():
    infusion = SlotRules(duration=minutes(40), step=minutes(15), recovery=minutes(60))
    held = padded(at(SPRING_FORWARD_NY, "01:30"), infusion)
    # 01:30 EST (06:30Z) + 1 h 40 = 08:10Z = 04:10 EDT, not the wall clock's 03:10.
    assert held == Interval(datetime(2026, 3, 8, 6, 30, tzinfo=UTC), datetime(2026, 3, 8, 8, 10, tzinfo=UTC))
    assert held.end.astimezone(NY).isoformat(timespec="minutes") == "2026-03-08T04:10-04:00"


def test_padded_refuses_a_naive_start():
    with pytest.raises(ValueError):
        padded(NAIVE, HALF_HOURLY)


def test_an_appointment_booked_from_the_slots_makes_its_slot_busy():
    first = slots_on(WEDNESDAY, ("09:00", "12:00"))[0]
    rules = SlotRules(duration=minutes(30), step=minutes(30), buffer_after=minutes(30))
    after_booking = slots_on(WEDNESDAY, ("09:00", "12:00"), rules=rules, busy=[padded(first, rules)])
    assert wall(after_booking) == ["10:00", "10:30", "11:00", "11:30"]


# Random schedules against a slow, obvious reading of the rules


def slow_open_slots(rules, blocks, blockers, window_start, window_end, now, days, tz=NY):
    """Every candidate of every block of every day, checked against every blocker: O(candidates × blockers)."""
    found = set()
    for day in days:
        for working in blocks:
            if working.weekday != day.weekday():
                continue
            start = datetime.combine(day, working.start, tzinfo=tz).astimezone(UTC)
            end = datetime.combine(day, working.end, tzinfo=tz).astimezone(UTC)
            candidate = start
            while candidate + rules.duration + rules.recovery <= end:
                held_from = candidate - rules.buffer_before
                held_until = candidate + rules.duration + rules.recovery + rules.buffer_after
                if (
                    window_start <= candidate < window_end
                    and now + rules.min_notice <= candidate <= now + rules.horizon
                    and not any(held_from < other.end and other.start < held_until for other in blockers)
                ):
                    found.add(candidate)
                candidate += rules.step
    return sorted(found)


FIRST_DAY = date(2026, 3, 5)  # a Thursday; the schedules span New York's spring-forward Sunday
EPOCH = datetime.combine(FIRST_DAY, time(0), tzinfo=NY).astimezone(UTC)
ALL_DAYS = [FIRST_DAY + timedelta(days=n) for n in range(-2, 11)]  # every day a drawn window can touch


def five_minute_steps(low: int, high: int) -> st.SearchStrategy[int]:
    return st.integers(min_value=low, max_value=high).map(lambda n: 5 * n)


WINDOW_STARTS = five_minute_steps(-24 * 12, 24 * 12).map(lambda m: EPOCH + minutes(m))
# Mostly several days, sometimes a few hours or empty.
WINDOW_LENGTHS = st.one_of(five_minute_steps(4 * 24 * 12, 8 * 24 * 12), five_minute_steps(-12, 4 * 12)).map(minutes)
NOW_BEFORE_WINDOW = five_minute_steps(-12 * 12, 2 * 24 * 12).map(minutes)  # from 12 h after to 2 days before
BLOCKS = st.builds(
    lambda weekday, start, length: WorkingBlock(
        weekday, time(start // 60, start % 60), time((start + length) // 60, (start + length) % 60)
    ),
    st.integers(min_value=0, max_value=6),
    five_minute_steps(0, 18 * 12),
    five_minute_steps(1, 5 * 12),
)
INTERVALS = st.builds(
    lambda start, length: Interval(start, start + minutes(length)),
    five_minute_steps(-24 * 12, 9 * 24 * 12).map(lambda m: EPOCH + minutes(m)),
    five_minute_steps(1, 36),
)
RULES = st.builds(
    SlotRules,
    duration=st.sampled_from([5, 15, 20, 30, 45, 100]).map(minutes),
    step=st.sampled_from([5, 10, 15, 20, 30, 60]).map(minutes),
    buffer_before=st.sampled_from([0, 5, 15, 30]).map(minutes),
    buffer_after=st.sampled_from([0, 5, 15, 30]).map(minutes),
    recovery=st.sampled_from([0, 30, 60]).map(minutes),
    min_notice=st.sampled_from([0, 60, 24 * 60]).map(minutes),
    horizon=st.sampled_from([1, 3, 60, 60]).map(timedelta),
)


@settings(
    max_examples=300,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    rules=RULES,
    blocks=st.lists(BLOCKS, min_size=1, max_size=10),
    busy=st.lists(INTERVALS, max_size=40),
    time_off=st.lists(INTERVALS, max_size=3),
    window_start=WINDOW_STARTS,
    window_length=WINDOW_LENGTHS,
    now_before_window=NOW_BEFORE_WINDOW,
)
def test_matches_a_slow_obvious_reading_of_the_rules(
    rules, blocks, busy, time_off, window_start, window_length, now_before_window
):
    window_end = window_start + window_length
    now = window_start - now_before_window
    expected = slow_open_slots(rules, blocks, busy + time_off, window_start, window_end, now, ALL_DAYS)
    assert (
        open_slots(
            rules=rules,
            clinic_tz=NY,
            working_hours=blocks,
            time_off=time_off,
            busy=busy,
            window_start=window_start,
            window_end=window_end,
            now=now,
        )
        == expected
    )


# The integer timeline the selectors use: microseconds since the epoch, any zone, blockers off the minute grid

SYDNEY_FIRST_DAY = date(2026, 4, 2)  # a Thursday; the schedules span Sydney's end of daylight saving (Sunday 5th)
SYDNEY_EPOCH = datetime.combine(SYDNEY_FIRST_DAY, time(0), tzinfo=SYDNEY).astimezone(UTC)
SYDNEY_DAYS = [SYDNEY_FIRST_DAY + timedelta(days=n) for n in range(-2, 11)]
ODD_INTERVALS = st.builds(
    lambda start, length: Interval(
        SYDNEY_EPOCH + timedelta(microseconds=start), SYDNEY_EPOCH + timedelta(microseconds=start + length)
    ),
    st.integers(min_value=-24 * 3600 * 10**6, max_value=9 * 24 * 3600 * 10**6),
    st.one_of(
        st.integers(min_value=1, max_value=3 * 3600 * 10**6), st.sampled_from([5, 30, 60]).map(lambda m: m * 60 * 10**6)
    ),
)


@settings(max_examples=300, deadline=None, database=None, derandomize=True)
@given(
    rules=RULES,
    blocks=st.lists(BLOCKS, min_size=1, max_size=10),
    blocked=st.lists(ODD_INTERVALS, max_size=30),
    window_start=five_minute_steps(-24 * 12, 24 * 12).map(lambda m: SYDNEY_EPOCH + minutes(m)),
    window_length=WINDOW_LENGTHS,
    now_before_window=st.integers(min_value=-12 * 3600 * 10**6, max_value=2 * 24 * 3600 * 10**6),
)
def test_the_integer_engine_matches_the_slow_reading_in_sydney(
    rules, blocks, blocked, window_start, window_length, now_before_window
):
    window_end = window_start + window_length
    now = window_start - timedelta(microseconds=now_before_window)
    expected = slow_open_slots(rules, blocks, blocked, window_start, window_end, now, SYDNEY_DAYS, tz=SYDNEY)
    found = open_starts(
        rules=rules,
        clinic_tz=SYDNEY,
        working_hours=blocks,
        blocked=[(micros(interval.start), micros(interval.end)) for interval in blocked],
        window_start=micros(window_start),
        window_end=micros(window_end),
        now=micros(now),
    )
    assert found == [micros(slot) for slot in expected]


def test_micros_counts_real_microseconds_from_the_epoch_in_any_zone():
    assert micros(datetime(1970, 1, 1, tzinfo=UTC)) == 0
    assert micros(at(SPRING_FORWARD_NY, "03:00")) - micros(at(SPRING_FORWARD_NY, "01:30")) == 30 * 60 * 10**6
    assert micros(datetime(2026, 6, 10, 13, 0, 0, 7, tzinfo=UTC)) == 1781096400 * 10**6 + 7


def test_open_starts_refuses_an_empty_blocker():
    with pytest.raises(ValueError):
        open_starts(
            rules=HALF_HOURLY,
            clinic_tz=NY,
            working_hours=[block(WEDNESDAY, "09:00", "12:00")],
            blocked=[(5, 5)],
            window_start=micros(at(WEDNESDAY, "00:00")),
            window_end=micros(at(WEDNESDAY, "23:00")),
            now=micros(at(WEDNESDAY, "08:00")),
        )
