"""When each reminder is due, and whether it is still worth sending: pure functions, no database.

Offsets are counted in the patient's clock time: a day-before reminder for a 9:00 AM visit goes
out at 9:00 AM the day before, even when the clocks change in between. A clock time that does not
exist that night (spring forward) is read as it would have been before the change, the standard
rule of Python's zoneinfo (fold=0), so it falls an hour later on the new clock.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from booking.visit_status import CANCELLED, CONFIRMED, NO_SHOW

CONFIRMATION, PREPARATION, DAY_BEFORE, FOLLOW_UP = "confirmation", "preparation", "day_before", "follow_up"
CANCELLATION = "cancellation"  # not a rule: sent whenever a visit still ahead is cancelled
# Sent before the visit: pointless, even misleading, once it has started.
BEFORE_VISIT = frozenset({CONFIRMATION, PREPARATION, DAY_BEFORE, CANCELLATION})
# A check-in more than this late (the clinic's mail was down for days) would read oddly: dropped.
FOLLOW_UP_STALE_AFTER = timedelta(days=2)


@dataclass(frozen=True)
class Rule:
    kind: str
    offset_minutes: int  # before the start, in clock time; negative is after it
    at_local_time: time | None = None


def due_at(*, rule: Rule, start: datetime, time_zone: str, now: datetime) -> datetime | None:
    """When to send this reminder for a visit at `start`, or None when it is no longer useful.

    A reminder whose moment has already passed when the visit is booked or moved (a visit
    booked 30 hours ahead and its 48-hour preparation reminder) is sent at once if the visit
    is still ahead: fasting times and the ride home matter most when time is short.
    """
    if rule.kind == CONFIRMATION:
        return now
    zone = ZoneInfo(time_zone)
    local = start.astimezone(zone)
    # Aware arithmetic within one zone is clock arithmetic: same clock time, other day.
    target = (local.replace(tzinfo=None) - timedelta(minutes=rule.offset_minutes)).replace(tzinfo=zone, fold=0)
    if rule.at_local_time is not None:
        target = datetime.combine(target.date(), rule.at_local_time, tzinfo=zone)
    due = target.astimezone(UTC)
    if due >= now:
        return due
    return now if still_useful(kind=rule.kind, start=start, due=due, now=now) else None


def wanted_for(*, kind: str, status: str) -> bool:
    """Whether a reminder of this kind has a reason to exist for a visit in this status."""
    if kind == CANCELLATION:
        return status == CANCELLED
    if status in (CANCELLED, NO_SHOW):
        return False
    return status == CONFIRMED or kind not in BEFORE_VISIT  # completed: the follow-up only


def still_useful(*, kind: str, start: datetime, due: datetime, now: datetime) -> bool:
    """Whether a reminder due at `due` should still go out at `now`."""
    if kind in BEFORE_VISIT:
        return now < start
    return now - due <= FOLLOW_UP_STALE_AFTER


def retry_delay(attempts: int) -> timedelta:
    """Back-off after a failed attempt: 1, 2, 4, 8 … minutes, at most an hour."""
    return timedelta(minutes=min(2 ** max(attempts - 1, 0), 60))
