"""A treatment plan's rules on plain values: how many sessions remain, and how far apart they must be."""

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta

# One session of a series: (clinician id, or None for any clinician free then; start).
Pick = tuple[int | None, datetime]


def too_close(start: datetime, others: Iterable[datetime], min_gap: timedelta) -> datetime | None:
    """The nearest of the plan's other sessions less than `min_gap` from `start` (either side), or
    None when `start` keeps its distance from all of them. A gap of exactly `min_gap` is allowed."""
    if min_gap <= timedelta(0):
        return None
    close = [other for other in others if _apart(other, start) < min_gap]
    return min(close, key=lambda other: _apart(other, start)) if close else None


def _apart(one: datetime, other: datetime) -> timedelta:
    """Elapsed time between two instants. Two datetimes in one zone subtract as wall clocks
    (an hour off across a DST change); in UTC they subtract as instants."""
    return abs(one.astimezone(UTC) - other.astimezone(UTC))


def series_too_close(starts: list[datetime], min_gap: timedelta) -> tuple[int, int] | None:
    """The first pair (by index) of a proposed series closer than `min_gap`, or None."""
    for index, start in enumerate(starts):
        for later in range(index + 1, len(starts)):
            if too_close(start, [starts[later]], min_gap) is not None:
                return index, later
    return None


def propose_series(
    candidates: Sequence[tuple[datetime, int]],
    *,
    first: Pick,
    count: int,
    min_gap: timedelta,
    booked: Sequence[datetime] = (),
) -> list[Pick]:
    """A series of up to `count` sessions that starts with `first`: each next one at the earliest
    candidate at least `min_gap` after the one before (and `min_gap` clear of each of the plan's
    sessions already `booked`), with the first's clinician while they have such a time, else with
    whoever has the earliest. `first` with no clinician (None, "any"): each next one at the
    earliest time anyone is free, for any clinician. `candidates`: the open (start, clinician id)
    in order of start. Shorter than `count` when the candidates run out (the booking horizon).

    The caller passes a gap of at least one visit's length, so one patient's visits never overlap."""
    if count < 1:
        return []
    clinician = first[0]
    picks: list[Pick] = [first]
    clear = [(start, owner) for start, owner in candidates if too_close(start, booked, min_gap) is None]
    while len(picks) < count:
        previous = picks[-1][1]
        usable = [
            (start, owner) for start, owner in clear if _after(start, previous) and _apart(start, previous) >= min_gap
        ]
        if not usable:
            break
        own = next((start for start, owner in usable if owner == clinician), None) if clinician else None
        if own is not None:
            picks.append((clinician, own))
        else:
            start, owner = usable[0]
            picks.append((None if clinician is None else owner, start))
    return picks


def _after(start: datetime, previous: datetime) -> bool:
    return start.astimezone(UTC) > previous.astimezone(UTC)


def change_window(
    starts: Sequence[datetime], index: int, min_gap: timedelta
) -> tuple[datetime | None, datetime | None]:
    """The earliest and latest start (either None: open-ended) that session `index` of a series
    may move to and keep `min_gap` from the sessions either side of it, in its place in the order."""
    earliest = starts[index - 1].astimezone(UTC) + min_gap if index > 0 else None
    latest = starts[index + 1].astimezone(UTC) - min_gap if index + 1 < len(starts) else None
    return earliest, latest


def within(start: datetime, window: tuple[datetime | None, datetime | None]) -> bool:
    """Whether `start` lies in a change_window (its bounds included)."""
    earliest, latest = window
    return (earliest is None or start >= earliest) and (latest is None or start <= latest)
