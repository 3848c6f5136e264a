"""Fasting cut-offs as a patient reads them: elapsed time before the visit, written in their clock time.

Expected values are worked out by hand with fixed UTC offsets, independently of the zone database.
"""

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from reminders.preparation import Fasting, fasting_sentence, fasting_times

EST, EDT = timezone(timedelta(hours=-5)), timezone(timedelta(hours=-4))  # New York: winter, summer
AEST, AEDT = timezone(timedelta(hours=10)), timezone(timedelta(hours=11))  # Sydney: winter, summer
NEW_YORK, SYDNEY = "America/New_York", "Australia/Sydney"
IV = {"food": 360, "liquids": 120}  # SPEC defaults
NASAL = {"food": 120, "liquids": 30}
CLEAR = "Clear liquids (water, black coffee or tea without milk, clear juice) are fine until"
THEN_NOTHING = "; after that, nothing to drink."


def at(offset: timezone, *fields: int) -> datetime:
    return datetime(*fields, tzinfo=offset)


CASES = [
    pytest.param(
        at(EDT, 2026, 3, 10, 14, 30), NEW_YORK, IV,
        at(EDT, 2026, 3, 10, 8, 30), at(EDT, 2026, 3, 10, 12, 30),
        f"No solid food after 8:30 AM on Tuesday, March 10. {CLEAR} 12:30 PM{THEN_NOTHING}",
        id="iv-afternoon",
    ),
    pytest.param(
        at(EST, 2026, 12, 10, 10, 0), NEW_YORK, NASAL,
        at(EST, 2026, 12, 10, 8, 0), at(EST, 2026, 12, 10, 9, 30),
        f"No solid food after 8:00 AM on Thursday, December 10. {CLEAR} 9:30 AM{THEN_NOTHING}",
        id="nasal-morning",
    ),
    pytest.param(
        at(EST, 2026, 12, 8, 7, 0), NEW_YORK, IV,
        at(EST, 2026, 12, 8, 1, 0), at(EST, 2026, 12, 8, 5, 0),
        f"No solid food after 1:00 AM on Tuesday, December 8. {CLEAR} 5:00 AM{THEN_NOTHING}",
        id="iv-early-same-day",
    ),
    pytest.param(
        at(EST, 2026, 12, 9, 5, 0), NEW_YORK, IV,
        at(EST, 2026, 12, 8, 23, 0), at(EST, 2026, 12, 9, 3, 0),
        f"No solid food after 11:00 PM on Tuesday, December 8. {CLEAR} 3:00 AM on Wednesday, December 9{THEN_NOTHING}",
        id="iv-crosses-midnight",
    ),
    pytest.param(
        at(EST, 2026, 12, 8, 6, 0), NEW_YORK, IV,
        at(EST, 2026, 12, 8, 0, 0), at(EST, 2026, 12, 8, 4, 0),
        f"No solid food after midnight at the end of Monday, December 7. {CLEAR} 4:00 AM on Tuesday, December 8"
        f"{THEN_NOTHING}",
        id="iv-cut-off-at-midnight",
    ),
    pytest.param(
        at(EST, 2026, 12, 8, 18, 0), NEW_YORK, IV,
        at(EST, 2026, 12, 8, 12, 0), at(EST, 2026, 12, 8, 16, 0),
        f"No solid food after 12:00 noon on Tuesday, December 8. {CLEAR} 4:00 PM{THEN_NOTHING}",
        id="iv-cut-off-at-noon",
    ),
    # Spring forward, Sunday 2026-03-08 at 2:00 AM EST -> 3:00 AM EDT: the night is 23 hours long, so six
    # hours before 7:00 AM is midnight, not the 1:00 AM a wall-clock subtraction gives.
    pytest.param(
        at(EDT, 2026, 3, 8, 7, 0), NEW_YORK, IV,
        at(EST, 2026, 3, 8, 0, 0), at(EDT, 2026, 3, 8, 5, 0),
        f"No solid food after midnight at the end of Saturday, March 7. {CLEAR} 5:00 AM on Sunday, March 8"
        f"{THEN_NOTHING}",
        id="new-york-spring-forward",
    ),
    # Fall back, Sunday 2026-11-01 at 2:00 AM EDT -> 1:00 AM EST: 1:00 AM happens twice. Six hours before
    # 7:00 AM EST (12:00 UTC) is 06:00 UTC, the second 1:00 AM (EST)...
    pytest.param(
        at(EST, 2026, 11, 1, 7, 0), NEW_YORK, IV,
        at(EST, 2026, 11, 1, 1, 0), at(EST, 2026, 11, 1, 5, 0),
        f"No solid food after 1:00 AM on Sunday, November 1 (the second 1:00 AM, once the clocks have gone back)."
        f" {CLEAR} 5:00 AM{THEN_NOTHING}",
        id="new-york-fall-back",
    ),
    # ... and six hours before 6:00 AM EST (11:00 UTC) is 05:00 UTC, the first 1:00 AM (EDT), not midnight.
    pytest.param(
        at(EST, 2026, 11, 1, 6, 0), NEW_YORK, IV,
        at(EDT, 2026, 11, 1, 1, 0), at(EST, 2026, 11, 1, 4, 0),
        f"No solid food after 1:00 AM on Sunday, November 1 (the first 1:00 AM, before the clocks go back)."
        f" {CLEAR} 4:00 AM{THEN_NOTHING}",
        id="new-york-fall-back-earlier-visit",
    ),
    # Sydney, DST ends Sunday 2026-04-05 at 3:00 AM AEDT -> 2:00 AM AEST: a 25-hour night.
    pytest.param(
        at(AEST, 2026, 4, 5, 7, 0), SYDNEY, IV,
        at(AEDT, 2026, 4, 5, 2, 0), at(AEST, 2026, 4, 5, 5, 0),
        f"No solid food after 2:00 AM on Sunday, April 5 (the first 2:00 AM, before the clocks go back)."
        f" {CLEAR} 5:00 AM{THEN_NOTHING}",
        id="sydney-dst-ends",
    ),
    # Sydney, DST starts Sunday 2026-10-04 at 2:00 AM AEST -> 3:00 AM AEDT: a 23-hour night.
    pytest.param(
        at(AEDT, 2026, 10, 4, 7, 0), SYDNEY, IV,
        at(AEST, 2026, 10, 4, 0, 0), at(AEDT, 2026, 10, 4, 5, 0),
        f"No solid food after midnight at the end of Saturday, October 3. {CLEAR} 5:00 AM on Sunday, October 4"
        f"{THEN_NOTHING}",
        id="sydney-dst-starts",
    ),
    pytest.param(
        at(AEDT, 2026, 10, 4, 9, 0), SYDNEY, NASAL,
        at(AEDT, 2026, 10, 4, 7, 0), at(AEDT, 2026, 10, 4, 8, 30),
        f"No solid food after 7:00 AM on Sunday, October 4. {CLEAR} 8:30 AM{THEN_NOTHING}",
        id="sydney-nasal-after-the-change",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("visit", "zone", "rules", "no_food_after", "no_liquids_after", "sentence"), CASES)
def test_cut_offs_are_elapsed_time_before_the_visit_in_the_patients_clock(
    visit, zone, rules, no_food_after, no_liquids_after, sentence
):
    fasting = fasting_times(start=visit, time_zone=zone, food_minutes=rules["food"], liquids_minutes=rules["liquids"])

    for cut_off, expected, minutes in (
        (fasting.no_food_after, no_food_after, rules["food"]),
        (fasting.no_liquids_after, no_liquids_after, rules["liquids"]),
    ):
        # The same instant (compared in UTC: Python never finds an ambiguous wall time equal across zones).
        assert cut_off.astimezone(UTC) == expected.astimezone(UTC)
        assert cut_off.tzinfo == ZoneInfo(zone)
        assert cut_off.utcoffset() == expected.utcoffset()  # hence the same wall clock the patient sees
        assert (cut_off.hour, cut_off.minute) == (expected.hour, expected.minute)
        assert visit.astimezone(UTC) - cut_off.astimezone(UTC) == timedelta(minutes=minutes)
    assert fasting_sentence(fasting, start_local=visit.astimezone(ZoneInfo(zone))) == sentence


def test_the_visit_may_be_given_in_any_zone():
    visit_in_utc = at(UTC, 2026, 3, 10, 18, 30)  # 2:30 PM EDT
    fasting = fasting_times(start=visit_in_utc, time_zone=NEW_YORK, food_minutes=360, liquids_minutes=120)
    assert fasting.no_food_after.astimezone(UTC) == at(EDT, 2026, 3, 10, 8, 30).astimezone(UTC)
    assert fasting.no_food_after.tzinfo == ZoneInfo(NEW_YORK)


def test_only_food():
    visit = at(EST, 2026, 12, 8, 14, 0)
    fasting = fasting_times(start=visit, time_zone=NEW_YORK, food_minutes=240, liquids_minutes=None)
    assert fasting.no_liquids_after is None
    assert fasting_sentence(fasting, start_local=visit) == "No solid food after 10:00 AM on Tuesday, December 8."


def test_only_liquids():
    visit = at(EST, 2026, 12, 8, 9, 0)
    fasting = fasting_times(start=visit, time_zone=NEW_YORK, food_minutes=None, liquids_minutes=60)
    assert fasting.no_food_after is None
    assert fasting_sentence(fasting, start_local=visit) == "Nothing to drink after 8:00 AM on Tuesday, December 8."


def test_the_same_cut_off_for_both_is_one_sentence():
    visit = at(EST, 2026, 12, 8, 9, 0)
    fasting = fasting_times(start=visit, time_zone=NEW_YORK, food_minutes=120, liquids_minutes=120)
    assert (
        fasting_sentence(fasting, start_local=visit) == "Nothing to eat or drink after 7:00 AM on Tuesday, December 8."
    )


@pytest.mark.parametrize(("food", "liquids"), [(None, None), (0, 0), (0, None)])
def test_no_rules_no_text(food, liquids):
    visit = at(EST, 2026, 12, 8, 9, 0)
    fasting = fasting_times(start=visit, time_zone=NEW_YORK, food_minutes=food, liquids_minutes=liquids)
    assert fasting == Fasting(no_food_after=None, no_liquids_after=None)
    assert fasting_sentence(fasting, start_local=visit) == ""


def test_the_sentence_follows_the_zone_of_the_visit_it_sits_next_to():
    visit = at(EST, 2026, 12, 8, 14, 0)
    fasting = fasting_times(start=visit, time_zone=NEW_YORK, food_minutes=360, liquids_minutes=None)
    in_chicago = visit.astimezone(ZoneInfo("America/Chicago"))  # 1:00 PM there
    assert fasting_sentence(fasting, start_local=in_chicago) == "No solid food after 7:00 AM on Tuesday, December 8."


def test_a_naive_start_is_refused():
    with pytest.raises(ValueError, match="aware"):
        fasting_times(start=datetime(2026, 12, 8, 9, 0), time_zone=NEW_YORK, food_minutes=360, liquids_minutes=120)  # noqa: DTZ001


def test_negative_minutes_are_refused():
    with pytest.raises(ValueError, match="negative"):
        fasting_times(start=at(EST, 2026, 12, 8, 9, 0), time_zone=NEW_YORK, food_minutes=-1, liquids_minutes=None)


def test_an_hour_the_clocks_repeat_says_which_one():
    # 7:00 AM EST on 2026-11-01 is 12:00 UTC. Food 7 h before is 05:00 UTC, the first 1:00 AM (EDT); clear
    # liquids 6 h before is 06:00 UTC, the second 1:00 AM (EST): the same clock time, an hour apart.
    visit = at(EST, 2026, 11, 1, 7, 0)
    fasting = fasting_times(start=visit, time_zone=NEW_YORK, food_minutes=420, liquids_minutes=360)
    assert fasting.no_food_after.astimezone(UTC) == at(EDT, 2026, 11, 1, 1, 0).astimezone(UTC)
    assert fasting.no_liquids_after.astimezone(UTC) == at(EST, 2026, 11, 1, 1, 0).astimezone(UTC)
    assert fasting_sentence(fasting, start_local=visit.astimezone(ZoneInfo(NEW_YORK))) == (
        "No solid food after 1:00 AM on Sunday, November 1 (the first 1:00 AM, before the clocks go back). "
        f"{CLEAR} 1:00 AM (the second 1:00 AM, once the clocks have gone back){THEN_NOTHING}"
    )
