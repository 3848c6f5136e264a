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
from functools import lru_cache
from zoneinfo import ZoneInfo

ONE_DAY = timedelta(days=1)
ONE_MICROSECOND = timedelta(microseconds=1)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


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
    blocked = [
        (micros(_utc(interval.start, "interval start")), micros(_utc(interval.end, "interval end")))
        for interval in (*busy, *time_off)
    ]
    starts = open_starts(
        rules=rules,
        clinic_tz=clinic_tz,
        working_hours=working_hours,
        blocked=blocked,
        window_start=micros(_utc(window_start, "window_start")),
        window_end=micros(_utc(window_end, "window_end")),
        now=micros(_utc(now, "now")),
    )
    return [EPOCH + timedelta(microseconds=start) for start in starts]


def micros(moment: datetime) -> int:
    """An aware datetime as whole microseconds since the Unix epoch: the timeline open_starts() works on."""
    return (moment - EPOCH) // ONE_MICROSECOND


def open_starts(
    *,
    rules: SlotRules,
    clinic_tz: ZoneInfo,
    working_hours: Iterable[WorkingBlock],
    blocked: Iterable[tuple[int, int]],
    window_start: int,
    window_end: int,
    now: int,
) -> list[int]:
    """open_slots() on plain numbers: every instant is microseconds since the Unix epoch (see micros()), `blocked`
    holds the (start, end) of busy times and time off alike, and the result is the sorted open starts.

    Each blocker [b, e) rules out the starts s in the open interval (b - tail, e + lead), where lead is the buffer
    before and tail the rest of the padded appointment; the walk goes through the free gaps between those and
    takes every grid point in each, instead of testing candidates one by one.
    """
    _check_rules(rules)
    blocks_by_weekday = _blocks_by_weekday(working_hours)
    lead = rules.buffer_before // ONE_MICROSECOND
    in_hours = (rules.duration + rules.recovery) // ONE_MICROSECOND  # must fit in working hours; buffers need not
    tail = in_hours + rules.buffer_after // ONE_MICROSECOND
    step = rules.step // ONE_MICROSECOND
    gap_starts, gap_ends = _ruled_out(blocked, lead, tail)

    earliest = max(window_start, now + rules.min_notice // ONE_MICROSECOND)
    latest = min(window_end - 1, now + rules.horizon // ONE_MICROSECOND)  # both inclusive
    if earliest > latest:
        return []

    found: list[int] = []
    # A block's instants can fall on the next local date (a start inside a spring-forward gap), hence the margins.
    day = _local_date(earliest, clinic_tz) - ONE_DAY
    last_day = _local_date(latest, clinic_tz) + ONE_DAY
    while day <= last_day:
        for block in blocks_by_weekday.get(day.weekday(), ()):
            block_start = _wall_to_micros(day, block.start, clinic_tz)
            low = max(block_start, earliest)
            high = min(_wall_to_micros(day, block.end, clinic_tz) - in_hours, latest)
            i = bisect_right(gap_ends, low)  # the first ruled-out interval that can contain `low` or follow it
            while low <= high:
                if i < len(gap_ends) and gap_starts[i] < high:
                    if gap_starts[i] < low:  # `low` is ruled out: resume where that interval ends (itself open)
                        low = gap_ends[i]
                    else:
                        _add_grid(found, block_start, step, low, gap_starts[i])
                        low = gap_ends[i]
                    i += 1
                else:
                    _add_grid(found, block_start, step, low, high)
                    break
        day += ONE_DAY
    # Overlapping blocks can give a start twice; blocks are not sorted within a day.
    return sorted(set(found))


def _add_grid(found: list[int], origin: int, step: int, low: int, high: int) -> None:
    """Append the points origin + k * step (k >= 0) in [low, high], both ends included; low >= origin."""
    first = origin - (origin - low) // step * step  # the first grid point >= low
    if first <= high:
        found.extend(range(first, high + 1, step))


def _ruled_out(blocked: Iterable[tuple[int, int]], lead: int, tail: int) -> tuple[list[int], list[int]]:
    """Starts and ends of the open intervals of starts that the blockers rule out, sorted, ends increasing."""
    starts, ends = _merged(blocked)
    return [start - tail for start in starts], [end + lead for end in ends]


def _local_date(moment: int, clinic_tz: ZoneInfo) -> date:
    return (EPOCH + timedelta(microseconds=moment)).astimezone(clinic_tz).date()


@lru_cache(maxsize=4096)
def _wall_to_micros(day: date, wall: time, clinic_tz: ZoneInfo) -> int:
    """The real instant of a wall-clock time on a day; fold=0 maps a wall time skipped by DST past the gap and an
    ambiguous one to its first occurrence. Cached: the same few block edges recur on every request."""
    return micros(datetime.combine(day, wall, tzinfo=clinic_tz))


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


def _merged(intervals: Iterable[tuple[int, int]]) -> tuple[list[int], list[int]]:
    """Starts and ends of the union of `intervals` as sorted, disjoint spans (touching spans joined)."""
    spans = sorted(intervals)
    starts: list[int] = []
    ends: list[int] = []
    for start, end in spans:
        if end <= start:
            raise ValueError(f"an interval must end after it starts, got {start}–{end} (microseconds)")
        if ends and start <= ends[-1]:
            if end > ends[-1]:
                ends[-1] = end
        else:
            starts.append(start)
            ends.append(end)
    return starts, ends


# Why a time staff pick is not an open slot (visit_placement); the clinic's words are in booking/services.py.
OUTSIDE_WORKING_HOURS, DURING_TIME_OFF, OVER_A_BUFFER = "outside_working_hours", "during_time_off", "over_a_buffer"


@dataclass(frozen=True)
class Placement:
    problems: tuple[str, ...]  # OUTSIDE_WORKING_HOURS, DURING_TIME_OFF, OVER_A_BUFFER, in that order; () when open
    clash: bool  # the visit itself lies in time another visit holds: never saved
    held: Interval  # the time it holds: padded(), cut short where another visit's held time begins or ends


def visit_placement(
    *,
    start: datetime,
    rules: SlotRules,
    clinic_tz: ZoneInfo,
    working_hours: Iterable[WorkingBlock],
    time_off: Iterable[Interval],
    busy: Iterable[Interval],
) -> Placement:
    """Whether one visit at `start` (any minute, not only the step grid; no notice or horizon: staff
    place it) keeps to the clinician's day as open_starts() reads it: the visit and its recovery
    within working hours (blocks that touch count as one), its padded time clear of time off and of
    the time other visits hold (`busy`, already padded).

    A visit placed over another's buffer anyway holds only the time left between its neighbours,
    so that no two visits' held times overlap (the database's rule); the visit itself must not
    lie in time another visit holds (`clash`).
    """
    _check_rules(rules)
    begin = micros(_utc(start, "start"))
    visit_end = begin + rules.duration // ONE_MICROSECOND
    in_hours_end = visit_end + rules.recovery // ONE_MICROSECOND
    padded_start = begin - rules.buffer_before // ONE_MICROSECOND
    padded_end = in_hours_end + rules.buffer_after // ONE_MICROSECOND

    blocks_by_weekday = _blocks_by_weekday(working_hours)
    spans: list[tuple[int, int]] = []
    day = _local_date(begin, clinic_tz) - ONE_DAY
    while day <= _local_date(in_hours_end, clinic_tz) + ONE_DAY:
        for block in blocks_by_weekday.get(day.weekday(), ()):
            spans.append((_wall_to_micros(day, block.start, clinic_tz), _wall_to_micros(day, block.end, clinic_tz)))
        day += ONE_DAY
    span_starts, span_ends = _merged(spans)
    in_hours = any(low <= begin and in_hours_end <= high for low, high in zip(span_starts, span_ends, strict=True))

    off = [(micros(_utc(i.start, "time off start")), micros(_utc(i.end, "time off end"))) for i in time_off]
    held_by_others = [(micros(_utc(i.start, "busy start")), micros(_utc(i.end, "busy end"))) for i in busy]
    problems = []
    if not in_hours:
        problems.append(OUTSIDE_WORKING_HOURS)
    if any(low < padded_end and padded_start < high for low, high in off):
        problems.append(DURING_TIME_OFF)
    if any(low < padded_end and padded_start < high for low, high in held_by_others):
        problems.append(OVER_A_BUFFER)
    clash = any(low < visit_end and begin < high for low, high in held_by_others)
    held_start, held_end = padded_start, padded_end
    if not clash:
        for low, high in held_by_others:
            if high <= begin:
                held_start = max(held_start, high)
            elif low >= visit_end:
                held_end = min(held_end, low)
    return Placement(
        problems=tuple(problems),
        clash=clash,
        held=Interval(EPOCH + timedelta(microseconds=held_start), EPOCH + timedelta(microseconds=held_end)),
    )
