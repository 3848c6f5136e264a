"""What people type about themselves, read by the one pure module both apps use (telemed/people.py)."""

import datetime
from zoneinfo import ZoneInfo, available_timezones

import pytest
from hypothesis import given
from hypothesis import strategies as st

from telemed.people import (
    OLDEST_AGE,
    BornInTheFuture,
    BornTooLongAgo,
    ImplausibleBirthDate,
    age_on,
    parse_time_zone,
    person_name,
    phone_number,
    stated_age,
)

date = datetime.date


def birthday(born: date, year: int) -> date:
    """The day `born` has its birthday in `year`: 29 February falls on 1 March in a common year."""
    try:
        return born.replace(year=year)
    except ValueError:
        return date(year, 3, 1)


def birthdays_passed(born: date, today: date) -> int:
    """The slow reading: count the birthdays from the first one up to today."""
    return sum(1 for year in range(born.year + 1, today.year + 1) if birthday(born, year) <= today)


# -- age ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("born", "today", "age"),
    [
        (date(1990, 6, 15), date(2024, 6, 14), 33),  # the day before the birthday
        (date(1990, 6, 15), date(2024, 6, 15), 34),  # on the birthday
        (date(1990, 6, 15), date(2024, 6, 16), 34),
        (date(2006, 1, 1), date(2023, 12, 31), 17),  # the last day under 18
        (date(2006, 1, 1), date(2024, 1, 1), 18),  # adult on the 18th birthday
        (date(2000, 2, 29), date(2018, 2, 28), 17),  # a leapling is not 18 on 28 February...
        (date(2000, 2, 29), date(2018, 3, 1), 18),  # ...but on 1 March of a common year
        (date(2000, 2, 29), date(2024, 2, 28), 23),
        (date(2000, 2, 29), date(2024, 2, 29), 24),  # and on the day itself in a leap year
        (date(2000, 3, 1), date(2024, 2, 29), 23),
        (date(2000, 2, 28), date(2001, 2, 28), 1),
        (date(2024, 5, 1), date(2024, 5, 1), 0),  # born today
        (date(2023, 12, 31), date(2024, 1, 1), 0),
        (date(1, 1, 1), date(1, 12, 31), 0),  # year 1
        (date(1, 1, 1), date(2, 1, 1), 1),
        (date(1, 1, 1), date(2024, 6, 1), 2023),
        (date(1, 1, 1), date(9999, 12, 31), 9998),
    ],
)
def test_age_is_the_whole_years_completed(born, today, age):
    assert age_on(born, today) == age == birthdays_passed(born, today)


@given(st.dates(min_value=date(1800, 1, 1), max_value=date(2200, 12, 31)), st.integers(0, 150 * 366))
def test_age_counts_the_birthdays_passed(born, days_later):
    today = born + datetime.timedelta(days=days_later)
    assert age_on(born, today) == birthdays_passed(born, today)


@given(st.dates(), st.dates())
def test_a_date_of_birth_after_today_is_a_negative_age(born, today):
    assert (age_on(born, today) < 0) == (born > today)


@pytest.mark.parametrize(
    ("born", "today", "age"),
    [
        (date(2024, 5, 1), date(2024, 5, 1), 0),
        (date(2006, 5, 2), date(2024, 5, 1), 17),
        (date(1904, 5, 1), date(2024, 5, 1), OLDEST_AGE),  # 120 today: still believed
        (date(1903, 5, 2), date(2024, 5, 1), OLDEST_AGE),  # the day before turning 121
        (date(1904, 2, 29), date(2025, 2, 28), OLDEST_AGE),
    ],
)
def test_a_plausible_date_of_birth_gives_its_age(born, today, age):
    assert stated_age(born, today) == age


@pytest.mark.parametrize(
    ("born", "today"),
    [
        (date(2024, 5, 2), date(2024, 5, 1)),  # tomorrow
        (date(2025, 1, 1), date(2024, 12, 31)),
        (date(9999, 12, 31), date(2024, 5, 1)),
        (date(2024, 2, 29), date(2024, 2, 28)),
    ],
)
def test_a_date_of_birth_in_the_future_is_refused(born, today):
    with pytest.raises(BornInTheFuture):
        stated_age(born, today)


@pytest.mark.parametrize(
    ("born", "today"),
    [
        (date(1903, 5, 1), date(2024, 5, 1)),  # 121 today
        (date(1904, 2, 29), date(2025, 3, 1)),
        (date(1, 1, 1), date(2024, 5, 1)),  # year 1, a slip of the year field
        (date(1, 1, 1), date(122, 1, 1)),
    ],
)
def test_a_date_of_birth_too_long_ago_is_refused(born, today):
    with pytest.raises(BornTooLongAgo):
        stated_age(born, today)


@given(st.dates(), st.dates())
def test_stated_age_is_the_age_or_a_refusal(born, today):
    try:
        age = stated_age(born, today)
    except ImplausibleBirthDate as refused:
        assert isinstance(refused, ValueError)
        assert isinstance(refused, BornInTheFuture) == (born > today)
        assert born > today or age_on(born, today) > OLDEST_AGE
    else:
        assert 0 <= age == age_on(born, today) <= OLDEST_AGE


# -- name -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "name"),
    [
        ("Ada Lovelace", "Ada Lovelace"),
        ("  Ada   Lovelace\t", "Ada Lovelace"),
        ("Ada\nLovelace", "Ada Lovelace"),
        ("Ada\u00a0\u2003Lovelace", "Ada Lovelace"),  # no-break and em spaces
        ("José Ñúñez-O'Brien", "José Ñúñez-O'Brien"),
        ("", ""),
        (" \t\n\u3000", ""),  # nothing but spaces, ideographic included
    ],
)
def test_a_name_keeps_its_words_with_single_spaces(typed, name):
    assert person_name(typed) == name


# -- phone ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "number"),
    [
        ("(555) 010-0199", "(555) 010-0199"),  # kept as typed: staff read it back to the person
        ("555.010.0199", "555.010.0199"),
        ("555-010-0199", "555-010-0199"),
        ("5550100199", "5550100199"),  # 10 digits
        ("+1 555 010 0199", "+1 555 010 0199"),
        ("+44 20 7946 0958", "+44 20 7946 0958"),
        ("+123456789012345", "+123456789012345"),  # 15 digits
        ("123456789012345", "123456789012345"),
        ("  555 010 0199 \n", "555 010 0199"),  # trimmed
        ("555\u00a0010\u00a00199", "555\u00a0010\u00a00199"),  # a no-break space is a space
        ("((555)) -- 010 .. 0199", "((555)) -- 010 .. 0199"),
    ],
)
def test_a_phone_number_of_10_to_15_digits_is_accepted_as_typed(typed, number):
    assert phone_number(typed) == number


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "   ",
        "+",
        "555 010 019",  # 9 digits
        "+1234567890123456",  # 16 digits
        "1234567890123456",
        "++15550100199",
        "1+5550100199",  # a + only in front
        "555 010 0199 ext 12",
        "555-010-CALL",
        "555/010/0199",
        "555_010_0199",
        "555,010,0199",
        "٥٥٥٠١٠٠١٩٩",  # Arabic-Indic digits: not what a clinician's phone dials
        "５５５０１００１９９",  # fullwidth digits
        "555０１００１９９",  # mixed
        "555010019²",  # a superscript two
        "５55 010 0199",
        "5550100199\x00",
    ],
)
def test_anything_else_is_not_a_phone_number(typed):
    assert phone_number(typed) is None


@given(
    st.booleans(),
    st.lists(st.sampled_from("0123456789"), min_size=1, max_size=20),
    st.lists(st.sampled_from(["", " ", "(", ")", ".", "-", "\t"]), min_size=20, max_size=20),
)
def test_phone_numbers_are_counted_by_their_digits_whatever_the_punctuation(plus, digits, separators):
    typed = ("+" if plus else "") + "".join(d + s for d, s in zip(digits, separators, strict=False))
    expected = typed.strip() if 10 <= len(digits) <= 15 else None
    assert phone_number(typed) == expected


@given(st.text())
def test_any_text_is_read_without_an_error(typed):
    number = phone_number(typed)
    assert number is None or number == typed.strip()


# -- time zone ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    ["America/New_York", "America/Argentina/Buenos_Aires", "Asia/Kathmandu", "UTC", "US/Eastern", "Etc/GMT+5"],
)
def test_an_iana_zone_name_gives_its_zone(name):
    assert parse_time_zone(name) == ZoneInfo(name)


def test_every_zone_the_system_knows_can_be_chosen():
    assert all(parse_time_zone(name) == ZoneInfo(name) for name in available_timezones())


@pytest.mark.parametrize(
    "name",
    [
        "",
        "Mars/Olympus",
        "America/New_York/",
        " America/New_York",
        "America/../Europe/Paris",
        "../../etc/passwd",
        "/etc/localtime",
        "/usr/share/zoneinfo/UTC",
        "a\x00b",
        "America/New_York\x00",
        "x" * 65,
        "America/" + "x" * 56,  # 64 characters, but no such zone
        "²",
        "America",
        "\u2215etc\u2215passwd",  # a division slash is not a slash, nor a zone
    ],
)
def test_bad_zone_names_are_refused_without_an_error(name):
    assert parse_time_zone(name) is None


@given(st.text(max_size=80))
def test_any_text_as_a_zone_is_a_zone_or_none(name):
    zone = parse_time_zone(name)
    assert zone is None or str(zone) == name
