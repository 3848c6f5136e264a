"""What people type about themselves — name, phone, date of birth, time zone — read as plain values.

Pure: no request, no ORM, no forms, no translations. Forms turn the refusals into their messages;
services and views use the same readings, so both apps agree on what a valid answer is.
"""

import datetime
import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

OLDEST_AGE = 120
PHONE_DIGITS = re.compile(r"^\+?[0-9]{10,15}$")  # ASCII digits only: what a clinician can dial
PHONE_PUNCTUATION = re.compile(r"[\s().-]")
TIME_ZONE_NAME_LIMIT = 64


class ImplausibleBirthDate(ValueError):
    """A date of birth no patient can have."""


class BornInTheFuture(ImplausibleBirthDate):
    pass


class BornTooLongAgo(ImplausibleBirthDate):
    pass


def age_on(born: datetime.date, today: datetime.date) -> int:
    """Whole years completed on `today`; someone born on 29 February turns a year older on 1 March
    in a common year. Negative when `born` is after `today`."""
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def stated_age(born: datetime.date, today: datetime.date) -> int:
    """The age of a date of birth someone gave us, refusing the future and more than OLDEST_AGE years."""
    if born > today:
        raise BornInTheFuture(born)
    age = age_on(born, today)
    if age > OLDEST_AGE:
        raise BornTooLongAgo(born)
    return age


def person_name(typed: str) -> str:
    """A name with its runs of white space made single spaces; "" when nothing but spaces was typed."""
    return " ".join(typed.split())


def phone_number(typed: str) -> str | None:
    """The number as typed (trimmed) when, without spaces, dots, dashes and brackets, it is 10 to 15
    digits with an optional leading +; else None."""
    if not PHONE_DIGITS.match(PHONE_PUNCTUATION.sub("", typed)):
        return None
    return typed.strip()


def parse_time_zone(name: str) -> ZoneInfo | None:
    """The zone of an IANA name typed or sent by anyone, or None (never an exception)."""
    if not name or len(name) > TIME_ZONE_NAME_LIMIT or ".." in name or name.startswith("/") or "\x00" in name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return None
