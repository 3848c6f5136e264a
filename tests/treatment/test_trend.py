"""The trend of scores: response and remission marks (pure, exhaustively), the chart's geometry,
and, on the pages that show it, an SVG and a table that agree with the stored scores."""

import datetime
import re
import xml.etree.ElementTree as ET
from fractions import Fraction
from html import unescape
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client

from booking.models import Appointment, AppointmentType, Patient
from booking.services import visit_times
from screening.models import Outcome, Screening
from tests.factories import ClinicianFactory, staff_sign_in, staff_with_role
from treatment import trend
from treatment.models import Measurement
from treatment.trend import GAD7, PHQ9, Point, marked

CLINIC = ZoneInfo("America/New_York")
DAY0 = datetime.datetime(2026, 10, 1, 9, 0, tzinfo=CLINIC)


def day(n: int) -> datetime.datetime:
    return DAY0 + datetime.timedelta(days=n)


def points(*scores: int, instrument: str = PHQ9) -> list[Point]:
    return [Point(day(n), instrument, score, "check_in") for n, score in enumerate(scores)]


# --- Pure: the marks -----------------------------------------------------------------------


def test_no_points_no_marks():
    assert marked([]) == []


def test_a_single_point_is_the_baseline_and_nothing_else():
    [only] = marked(points(3))
    assert only.baseline and not only.response and not only.remission and only.change_percent is None


def test_the_baseline_is_the_first_score_in_time_whatever_the_order_given():
    given = list(reversed(points(20, 12, 8)))
    result = marked(given)
    assert [item.point.score for item in result] == [20, 12, 8]
    assert [item.baseline for item in result] == [True, False, False]
    assert [item.change_percent for item in result] == [None, -40, -60]


@pytest.mark.parametrize(
    ("baseline", "score", "response"),
    [
        (10, 5, True),  # exactly 50 %
        (10, 6, False),  # 40 %
        (9, 4, True),  # 55.6 %
        (9, 5, False),  # 44.4 %: half of 9 is 4.5
        (20, 10, True),
        (20, 11, False),
        (1, 0, True),
        (0, 0, False),  # a baseline of 0 cannot fall
        (12, 14, False),  # worse
    ],
)
def test_response_is_a_fall_of_at_least_half_the_baseline(baseline, score, response):
    assert marked(points(baseline, score))[1].response is response


def test_response_against_an_obviously_correct_reading_for_every_pair_of_scores():
    for instrument in (PHQ9, GAD7):
        top = trend.MAXIMUM[instrument]
        for baseline in range(top + 1):
            for score in range(top + 1):
                expected = baseline > 0 and Fraction(baseline - score, baseline) >= Fraction(1, 2)
                assert marked(points(baseline, score, instrument=instrument))[1].response is expected


@pytest.mark.parametrize(("score", "remission"), [(4, True), (5, False), (0, True), (27, False)])
def test_remission_is_a_later_phq9_below_5(score, remission):
    assert marked(points(18, score))[1].remission is remission


def test_a_gad7_below_5_is_a_response_but_never_a_remission():
    later = marked(points(15, 4, instrument=GAD7))[1]
    assert later.response and not later.remission


def test_a_baseline_below_5_is_not_marked_a_remission():
    first, second = marked(points(3, 2))
    assert not first.remission and second.remission


def test_each_questionnaire_is_judged_against_its_own_baseline():
    mixed = [
        Point(day(0), PHQ9, 20, "screening"),
        Point(day(0), GAD7, 8, "screening"),
        Point(day(5), GAD7, 4, "check_in"),
        Point(day(5), PHQ9, 11, "check_in"),
    ]
    result = {(item.point.instrument, item.point.taken_at): item for item in marked(mixed)}
    assert result[(PHQ9, day(0))].baseline and result[(GAD7, day(0))].baseline
    assert result[(GAD7, day(5))].response  # 8 → 4
    assert not result[(PHQ9, day(5))].response  # 20 → 11


# --- Pure: the chart -------------------------------------------------------------------------


def label(when: datetime.datetime) -> str:
    return when.strftime("%b %d")


def test_an_empty_chart_draws_no_series_and_no_dates():
    chart = trend.chart([], date_label=label)
    assert chart.series == () and chart.x_ticks == ()
    assert [tick.label for tick in chart.y_ticks] == ["0", "5", "10", "15", "20", "25"]


def test_one_point_sits_in_the_middle_with_one_date():
    chart = trend.chart(marked(points(9)), date_label=label)
    [series] = chart.series
    [dot] = series.dots
    assert dot.x == (chart.plot_left + chart.plot_right) / 2
    assert [tick.label for tick in chart.x_ticks] == ["Oct 01"]


def test_x_is_proportional_to_time_and_y_to_the_score():
    chart = trend.chart(marked(points(27, 0, 9, 18)), date_label=label)  # days 0, 1, 2, 3
    dots = chart.series[0].dots
    assert [dot.x for dot in dots] == pytest.approx(
        [chart.plot_left + (chart.plot_right - chart.plot_left) * n / 3 for n in range(4)]
    )
    assert dots[0].y == chart.plot_top and dots[1].y == chart.plot_bottom
    assert dots[2].y == pytest.approx(chart.plot_bottom - (chart.plot_bottom - chart.plot_top) / 3)
    assert chart.remission_y == pytest.approx(trend.y_of(5))
    assert [tick.label for tick in chart.x_ticks] == ["Oct 01", "Oct 04"]


def test_the_two_questionnaires_are_separate_series():
    chart = trend.chart(marked([*points(10, 5), *points(8, instrument=GAD7)]), date_label=label)
    assert [(series.instrument, len(series.dots)) for series in chart.series] == [(PHQ9, 2), (GAD7, 1)]


# --- The pages: the SVG and the table agree with the stored scores ---------------------------

SVG = "{http://www.w3.org/2000/svg}"


def svg_points(html: str) -> list[tuple[str, int, str]]:
    """(instrument, score read back from the point's height on the axis, ISO time) of each point."""
    match = re.search(r"<svg viewBox.*?</svg>", html, re.S)
    assert match, "no chart"
    root = ET.fromstring(match.group(0))  # noqa: S314 - our own page's markup
    assert root.get("role") == "img"
    assert root.find(f"{SVG}title").text and root.find(f"{SVG}desc").text
    ticks = {int(t.get("data-value")): float(t.get("y")) for t in root.iter(f"{SVG}text") if t.get("data-value")}
    per_point = (ticks[0] - ticks[25]) / 25
    found = []
    for element in root.iter():
        if element.get("class") != "trend-point":
            continue
        if element.tag == f"{SVG}circle":
            y = float(element.get("cy"))
        else:
            y = float(element.get("y")) + float(element.get("height")) / 2
        score = round((ticks[0] - y) / per_point)
        assert score == int(element.get("data-score"))  # the height says what the label says
        found.append((element.get("data-instrument"), score, element.get("data-taken")))
    return found


def table_rows(html: str) -> list[list[str]]:
    rows = re.findall(r'<tr class="trend-row".*?</tr>', html, re.S)
    return [
        [
            " ".join(unescape(re.sub(r"<[^>]+>", " ", cell)).split())
            for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)
        ]
        for row in rows
    ]


def row_times(html: str) -> list[str]:
    return re.findall(r'<tr class="trend-row".*?<time datetime="([^"]+)"', html, re.S)


@pytest.fixture
def history():
    """A patient screened on Oct 1 (PHQ-9 18, GAD-7 12), then a clinician's PHQ-9 and two check-ins."""
    patient = Patient.objects.create(full_name="Alex Rivera", email="alex@example.org", phone="5550100123")
    screened = Screening.objects.create(
        email="alex@example.org",
        outcome=Outcome.ELIGIBLE,
        submitted_at=day(0),
        phq9_total=18,
        phq9_band="moderately severe",
        gad7_total=12,
        gad7_band="moderate",
    )
    kind = AppointmentType.objects.get(slug="esketamine-nasal")
    clinician = ClinicianFactory(offers=["esketamine-nasal"])
    visits = []
    for n in (10, 20, 40):
        start = day(n)
        end, held_from, held_until = visit_times(kind, start)
        visits.append(
            Appointment.objects.create(
                patient=patient,
                clinician=clinician,
                appointment_type=kind,
                start=start,
                end=end,
                blocked_start=held_from,
                blocked_end=held_until,
                screening=screened,
            )
        )
    staff = staff_with_role("Clinician")
    rows = [
        Measurement(
            patient=patient, instrument="phq9", score=12, taken_at=day(5), source="clinician", entered_by=staff
        ),
        *(
            Measurement(
                patient=patient,
                appointment=visit,
                instrument=instrument,
                score=score,
                answers=answers,
                taken_at=visit.start - datetime.timedelta(hours=20),
                source="check_in",
            )
            for visit, scores in zip(visits[:2], [(9, 6), (4, 5)], strict=True)
            for instrument, score, answers in [
                ("phq9", scores[0], [1] * scores[0] + [0] * (9 - scores[0])),
                ("gad7", scores[1], [1] * scores[1] + [0] * (7 - scores[1])),
            ]
        ),
    ]
    Measurement.objects.bulk_create(rows)
    return {"patient": patient, "screening": screened, "visits": visits, "staff": staff}


def stored(history) -> list[tuple[str, int, datetime.datetime, str]]:
    screening = history["screening"]
    rows = [
        ("phq9", screening.phq9_total, screening.submitted_at, "Screening"),
        ("gad7", screening.gad7_total, screening.submitted_at, "Screening"),
    ]
    rows += [
        (m.instrument, m.score, m.taken_at, m.get_source_display()) for m in Measurement.objects.order_by("taken_at")
    ]
    return sorted(rows, key=lambda row: (row[2], row[0]))


def assert_agrees(html: str, history, zone: ZoneInfo) -> None:
    expected = stored(history)
    drawn = sorted(svg_points(html), key=lambda p: (datetime.datetime.fromisoformat(p[2]), p[0]))
    assert [(i, s, datetime.datetime.fromisoformat(t)) for i, s, t in drawn] == [
        (i, s, t) for i, s, t, _src in expected
    ]
    rows = table_rows(html)
    assert [datetime.datetime.fromisoformat(t) for t in row_times(html)] == [t for _i, _s, t, _src in expected]
    names = {"phq9": "PHQ-9", "gad7": "GAD-7"}
    maxima = {"phq9": 27, "gad7": 21}
    for row, (instrument, score, taken_at, source) in zip(rows, expected, strict=True):
        assert row[0] == taken_at.astimezone(zone).strftime("%b %-d, %Y")
        assert row[1:4] == [names[instrument], f"{score} of {maxima[instrument]}", source]
    # The marks, as a clinician reads them: PHQ-9 18 → 12 (-33 %) → 9 (-50 %, response) → 4 (remission).
    phq9 = [row for row in rows if row[1] == "PHQ-9"]
    assert [row[4:6] for row in phq9] == [
        ["—", "Baseline"],
        ["-33 %", "—"],
        ["-50 %", "Response"],
        ["-78 %", "Response, Remission"],
    ]
    gad7 = [row for row in rows if row[1] == "GAD-7"]
    assert [row[4:6] for row in gad7] == [["—", "Baseline"], ["-50 %", "Response"], ["-58 %", "Response"]]


@pytest.mark.django_db
def test_the_patients_own_visit_page_draws_every_score_as_stored(history):
    upcoming = history["visits"][2]
    with time_machine.travel(day(30), tick=False):
        html = Client().get(f"/appointments/{upcoming.token}/").content.decode()
    assert_agrees(html, history, ZoneInfo(upcoming.time_zone))
    assert "Safety question" not in html  # the clinicians' column only


@pytest.mark.django_db
def test_the_record_page_draws_every_score_as_stored_for_a_clinician(history):
    client = Client()
    staff_sign_in(client, history["staff"])
    with time_machine.travel(day(30), tick=False):
        html = client.get(f"/admin/booking/patient/{history['patient'].pk}/record/").content.decode()
    assert_agrees(html, history, CLINIC)


@pytest.mark.django_db
def test_the_chart_is_csp_safe_no_script_no_style_attribute(history):
    upcoming = history["visits"][2]
    with time_machine.travel(day(30), tick=False):
        html = Client().get(f"/appointments/{upcoming.token}/").content.decode()
    chart = re.search(r'<div class="trend".*?</figure>', html, re.S).group(0)
    assert "style=" not in chart and "<script" not in chart and "http" not in chart.replace(SVG[1:-1], "")
