"""A patient's PHQ-9 and GAD-7 scores over time: the response and remission marks, and the chart.

Pure: plain values in, plain values out (no database, no request), so the rules are tested
exhaustively (tests/treatment/test_trend.py). The selectors (treatment/measurements.py) gather
the points; templates/treatment/_trend.html draws the chart from `chart()` and the table from
the same marked points, so the two cannot disagree.

- Baseline: each questionnaire's first score.
- Response: a later score at least 50 % below the baseline (2 × score ≤ baseline; a baseline of
  0 cannot fall). Kroenke K, Spitzer RL, Williams JB. J Gen Intern Med 2001;16:606–613, and the
  same convention for the GAD-7.
- Remission: a later PHQ-9 below 5 (the "minimal" band). The baseline itself is never marked:
  both describe a change since treatment began.
"""

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

PHQ9, GAD7 = "phq9", "gad7"
MAXIMUM = {PHQ9: 27, GAD7: 21}
RESPONSE_FALL = 0.5  # at least half the baseline
REMISSION_BELOW = 5  # PHQ-9


@dataclass(frozen=True)
class Point:
    taken_at: datetime
    instrument: str  # PHQ9 or GAD7
    score: int
    source: str  # Measurement.Source value
    safety_answer: bool = False  # a check-in's PHQ-9 item 9 above 0 (for clinicians)


@dataclass(frozen=True)
class MarkedPoint:
    point: Point
    baseline: bool
    change_percent: int | None  # from the baseline, rounded; None for the baseline or a 0 baseline
    response: bool
    remission: bool


def is_response(baseline: int, score: int) -> bool:
    """At least a 50 % fall from the baseline (in whole numbers: 2 × score ≤ baseline)."""
    return baseline > 0 and 2 * score <= baseline


def is_remission(instrument: str, score: int) -> bool:
    return instrument == PHQ9 and score < REMISSION_BELOW


def marked(points: Iterable[Point]) -> list[MarkedPoint]:
    """The points in time order, each questionnaire judged against its own first score."""
    ordered = sorted(points, key=lambda point: (point.taken_at, point.instrument))
    baselines: dict[str, int] = {}
    result = []
    for point in ordered:
        baseline = baselines.get(point.instrument)
        if baseline is None:
            baselines[point.instrument] = point.score
            result.append(MarkedPoint(point, True, None, False, False))
            continue
        change = round(100 * (point.score - baseline) / baseline) if baseline else None
        result.append(
            MarkedPoint(
                point,
                baseline=False,
                change_percent=change,
                response=is_response(baseline, point.score),
                remission=is_remission(point.instrument, point.score),
            )
        )
    return result


# --- The chart: geometry in the SVG's own units (the template scales it to the page) ---------

# About a phone's width, so that its words are read at their size there (the page scales it up on a wider screen).
WIDTH, HEIGHT = 420, 280
LEFT, RIGHT, TOP, BOTTOM = 30, 14, 14, 48  # margins: axis labels left, dates and the legend below
SCALE_MAX = 27  # both questionnaires on one 0–27 axis (the GAD-7 tops at 21)
Y_TICKS = (0, 5, 10, 15, 20, 25)
SQUARE = 9


@dataclass(frozen=True)
class Dot:
    x: float
    y: float
    marked: MarkedPoint

    # A GAD-7 point is a square centred on (x, y), so that the two lines differ without colour.
    @property
    def square_x(self) -> float:
        return self.x - SQUARE / 2

    @property
    def square_y(self) -> float:
        return self.y - SQUARE / 2


@dataclass(frozen=True)
class Series:
    instrument: str
    dots: tuple[Dot, ...]

    @property
    def polyline(self) -> str:
        return " ".join(f"{dot.x:.1f},{dot.y:.1f}" for dot in self.dots)


@dataclass(frozen=True)
class Tick:
    position: float
    label: str


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    plot_left: int
    plot_right: int
    plot_top: int
    plot_bottom: int
    series: tuple[Series, ...]
    y_ticks: tuple[Tick, ...]
    x_ticks: tuple[Tick, ...]
    remission_y: float


def y_of(score: int) -> float:
    return HEIGHT - BOTTOM - (HEIGHT - TOP - BOTTOM) * score / SCALE_MAX


def chart(points: Sequence[MarkedPoint], *, date_label: Callable[[datetime], str]) -> Chart:
    """Where each point sits: x in proportion to time (the first score at the left, the last at the
    right; a single day in the middle), y by score. `date_label` writes an axis date."""
    left, right = LEFT, WIDTH - RIGHT
    times = [item.point.taken_at for item in points]
    first, last = (min(times), max(times)) if times else (None, None)
    span = (last - first).total_seconds() if first and last else 0.0

    def x_of(taken_at: datetime) -> float:
        if not span or first is None:
            return (left + right) / 2
        return left + (right - left) * (taken_at - first).total_seconds() / span

    series = tuple(
        Series(
            instrument,
            tuple(
                Dot(x_of(item.point.taken_at), y_of(item.point.score), item)
                for item in points
                if item.point.instrument == instrument
            ),
        )
        for instrument in (PHQ9, GAD7)
    )
    x_ticks: tuple[Tick, ...] = ()
    if first is not None and last is not None:
        x_ticks = (Tick(x_of(first), date_label(first)),)
        if date_label(last) != date_label(first):
            x_ticks += (Tick(x_of(last), date_label(last)),)
    return Chart(
        width=WIDTH,
        height=HEIGHT,
        plot_left=left,
        plot_right=right,
        plot_top=TOP,
        plot_bottom=HEIGHT - BOTTOM,
        series=tuple(one for one in series if one.dots),
        y_ticks=tuple(Tick(y_of(score), str(score)) for score in Y_TICKS),
        x_ticks=x_ticks,
        remission_y=y_of(REMISSION_BELOW),
    )
