"""Open appointment start times for one clinician: pure functions on plain values, no database.

Working hours are wall-clock times in the clinic's zone, but everything else happens on the absolute
(UTC) timeline: candidates are stepped in real minutes from the instant a block starts, so an
appointment lasts the same real time on a daylight-saving day as on any other. Python adds a
timedelta to an aware datetime in wall-clock terms when the zone has DST, which is why every instant
is converted to UTC before any arithmetic.
"""

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

ONE_DAY = timedelta(days=1)


@dataclass(frozen=True)
class WorkingBlock:
    weekday: int  # 0 = Monday … 6 = Sunday, in the clinic's wall clock
    start: time  # wall-clock start in the clinic time zone
    end: time  # wall-clock end (end > start; blocks never cross midnight)


@dataclass(frozen=True)
class Interval:
    start: datetime  # aware
    end: datetime  # aware, end > start


@dataclass(frozen=True)
class SlotRules:
    duration: timedelta
    step: timedelta
    buffer_before: timedelta = timedelta(0)
    buffer_after: timedelta = timedelta(0)
    recovery: timedelta = timedelta(0)
    min_notice: timedelta = timedelta(0)
    horizon: timedelta = timedelta(days=60)


def padded(start: datetime, rules: SlotRules) -> Interval:
    """The time an appointment starting at `start` blocks for its clinician:
    [start - buffer_before, start + duration + recovery + buffer_after), in UTC, in real time."""
    start = _utc(start, "start")
    return Interval(
        start=start - rules.buffer_before,
        end=start + rules.duration + rules.recovery + rules.buffer_after,
    )


def open_slots(
    *,
    rules: SlotRules,
    clinic_tz: ZoneInfo,
    working_hours: Iterable[WorkingBlock],
    time_off: Iterable[Interval],
    busy: Iterable[Interval],
    window_start: datetime,
    window_end: datetime,
    now: datetime,
) -> list[datetime]:
    """Open start times for ONE clinician, sorted ascending, as aware datetimes in UTC (tzinfo=datetime.timezone.utc).

    A start s is open when it lies on its working block's step grid, the appointment and its recovery end by the
    block's end, window_start <= s < window_end, now + min_notice <= s <= now + horizon, and padded(s) overlaps
    nothing in `busy` (already padded by the caller) or `time_off`. Intervals are half-open: touching is not overlap.
    """
    _check_rules(rules)
    window_start = _utc(window_start, "window_start")
    window_end = _utc(window_end, "window_end")
    now = _utc(now, "now")
    blocks_by_weekday = _blocks_by_weekday(working_hours)
    blocked_starts, blocked_ends = _merged(list(busy) + list(time_off))

    earliest = max(window_start, now + rules.min_notice)
    latest = now + rules.horizon  # inclusive, unlike window_end
    if earliest >= window_end or earliest > latest:
        return []

    in_hours = rules.duration + rules.recovery  # must fit in working hours; the buffers need not
    lead = rules.buffer_before
    tail = in_hours + rules.buffer_after
    step = rules.step
    found: set[datetime] = set()

    # A block's instants can fall on the next local date (a start inside a spring-forward gap), hence the margins.
    day = earliest.astimezone(clinic_tz).date() - ONE_DAY
    last_day = min(window_end, latest).astimezone(clinic_tz).date() + ONE_DAY
    while day <= last_day:
        for block_start, block_end in _block_instants(day, blocks_by_weekday[day.weekday()], clinic_tz):
            last_fit = block_end - in_hours
            k = 0 if earliest <= block_start else _ceil_div(earliest - block_start, step)
            start = block_start + k * step
            while start <= last_fit and start < window_end and start <= latest:
                # The first merged blocker ending after the padded start is the only one that can overlap it.
                i = bisect_right(blocked_ends, start - lead)
                if i < len(blocked_ends) and blocked_starts[i] < start + tail:
                    # Jump to the first grid point whose padded start is at or after the blocker's end.
                    k = max(k + 1, _ceil_div(blocked_ends[i] + lead - block_start, step))
                else:
                    found.add(start)
                    k += 1
                start = block_start + k * step
        day += ONE_DAY
    return sorted(found)


def _utc(moment: datetime, what: str) -> datetime:
    if moment.tzinfo is UTC:  # the common case (values from the database), kept cheap for thousands of intervals
        return moment
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{what} must be a timezone-aware datetime, got {moment!r}")
    return moment.astimezone(UTC)


def _check_rules(rules: SlotRules) -> None:
    if rules.duration <= timedelta(0):
        raise ValueError(f"duration must be positive, got {rules.duration}")
    if rules.step <= timedelta(0):
        raise ValueError(f"step must be positive, got {rules.step}")
    for name in ("buffer_before", "buffer_after", "recovery"):
        if getattr(rules, name) < timedelta(0):
            raise ValueError(f"{name} cannot be negative, got {getattr(rules, name)}")


def _blocks_by_weekday(working_hours: Iterable[WorkingBlock]) -> dict[int, list[WorkingBlock]]:
    by_weekday: dict[int, list[WorkingBlock]] = defaultdict(list)
    for block in set(working_hours):
        if not 0 <= block.weekday <= 6:
            raise ValueError(f"weekday must be 0 (Monday) to 6 (Sunday), got {block.weekday}")
        if block.end <= block.start:
            raise ValueError(f"a working block must end after it starts, got {block.start}–{block.end}")
        by_weekday[block.weekday].append(block)
    return by_weekday


def _block_instants(day: date, blocks: list[WorkingBlock], clinic_tz: ZoneInfo) -> list[tuple[datetime, datetime]]:
    """The real start and end of each block on `day`; fold=0 maps a wall time skipped by DST past the gap and an
    ambiguous one to its first occurrence."""
    return [
        (
            datetime.combine(day, block.start, tzinfo=clinic_tz).astimezone(UTC),
            datetime.combine(day, block.end, tzinfo=clinic_tz).astimezone(UTC),
        )
        for block in blocks
    ]


def _merged(intervals: list[Interval]) -> tuple[list[datetime], list[datetime]]:
    """Starts and ends of the union of `intervals` as sorted, disjoint spans (touching spans joined)."""
    spans = []
    for interval in intervals:
        start, end = _utc(interval.start, "interval start"), _utc(interval.end, "interval end")
        if end <= start:
            raise ValueError(f"an interval must end after it starts, got {interval.start}–{interval.end}")
        spans.append((start, end))
    spans.sort()
    starts: list[datetime] = []
    ends: list[datetime] = []
    for start, end in spans:
        if ends and start <= ends[-1]:
            ends[-1] = max(ends[-1], end)
        else:
            starts.append(start)
            ends.append(end)
    return starts, ends


def _ceil_div(span: timedelta, step: timedelta) -> int:
    return -(-span // step)
