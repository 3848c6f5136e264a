"""Measurement-based care: the PHQ-9 and GAD-7 scores of a patient over time.

Reads (the trend's points) and writes (a check-in before a treatment, a score a clinician
enters, the staff alert of a check-in's safety answer). The rules of the trend itself are pure,
in treatment/trend.py.

The screening's scores are read from the screening itself (Screening.phq9_total / gad7_total),
not copied into Measurement rows: one record of each score. A screening belongs to the patient
only through their own visits or treatment plans (as on the patient's record page).
"""

import datetime
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import dateformat, timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from screening import scoring
from screening.instruments import GAD7, PHQ9, Instrument
from screening.models import Screening
from staff.audit import acting_as
from telemed.owed import lost_since
from telemed.queueing import enqueue_on_commit
from treatment import rules, trend
from treatment.models import Measurement

if TYPE_CHECKING:
    from booking.models import Appointment, Patient

logger = logging.getLogger(__name__)

INSTRUMENTS: dict[str, Instrument] = {Measurement.Instrument.PHQ9: PHQ9, Measurement.Instrument.GAD7: GAD7}
# The check-in is answered in the 3 days before a treatment, up to its start: scores of the days
# leading up to the session, never one taken under the medicine's acute effects.
CHECK_IN_OPENS_BEFORE = datetime.timedelta(days=3)
SAFETY_ITEM_INDEX = scoring.PHQ9_SELF_HARM_ITEM - 1


# --- Reads ----------------------------------------------------------------------------------


def screening_points(screenings: Iterable[Screening]) -> list[trend.Point]:
    """The scores of submitted screenings (their fields phq9_total, gad7_total, submitted_at)."""
    points = []
    for screening in screenings:
        if screening.submitted_at is None:
            continue
        for instrument, score in ((trend.PHQ9, screening.phq9_total), (trend.GAD7, screening.gad7_total)):
            if score is not None:
                points.append(trend.Point(screening.submitted_at, instrument, score, Measurement.Source.SCREENING))
    return points


def measurement_points(measurements: Iterable[Measurement]) -> list[trend.Point]:
    return [
        # A safety answer alerted: this score's own, or one sent again after it (check_in_answer).
        trend.Point(
            m.taken_at, m.instrument, m.score, m.source, safety_answer=has_safety_answer(m) or bool(m.staff_alerted_at)
        )
        for m in measurements
    ]


def is_safety_answer(instrument: str, answers: Sequence[int]) -> bool:
    """A whole PHQ-9 answered with item 9 (thoughts of being better off dead or of self-harm) above 0."""
    return (
        instrument == Measurement.Instrument.PHQ9
        and len(answers) == len(PHQ9.items)
        and (scoring.phq9_self_harm(list(answers)) > 0)
    )


def has_safety_answer(measurement: Measurement) -> bool:
    """A check-in's own answers (a clinician's score or a screening's has none here)."""
    return isinstance(measurement.answers, list) and is_safety_answer(measurement.instrument, measurement.answers)


MEASUREMENT_FIELDS = ["taken_at", "instrument", "score", "source", "answers", "appointment_id", "staff_alerted_at"]


def patient_measurements(patient: "Patient") -> list[Measurement]:
    return list(Measurement.objects.filter(patient=patient).only(*MEASUREMENT_FIELDS))


def patient_screenings(patient: "Patient"):
    return (
        Screening.objects.filter(Q(appointments__patient=patient) | Q(treatment_plans__patient=patient))
        .filter(submitted_at__isnull=False)
        .only("submitted_at", "phq9_total", "gad7_total")
        .distinct()
    )


def patient_trend(patient: "Patient", kept: Sequence[Measurement] | None = None) -> list[trend.MarkedPoint]:
    """Every score of the patient (`kept`: their measurements, if already read), marked: two
    queries whatever their number."""
    kept = patient_measurements(patient) if kept is None else kept
    return trend.marked([*screening_points(patient_screenings(patient)), *measurement_points(kept)])


@dataclass(frozen=True)
class TrendRow:
    marked: trend.MarkedPoint
    date: str
    instrument: str
    maximum: int
    source: str
    marks: list[str]


@dataclass(frozen=True)
class TrendView:
    """What templates/treatment/_trend.html draws: the chart, its summary and the table's rows."""

    rows: list[TrendRow]
    chart: trend.Chart
    summary: str


def day_label(when: datetime.datetime, zone: ZoneInfo) -> str:
    return dateformat.format(timezone.localtime(when, zone), "M j, Y")


def trend_view(points: Sequence[trend.MarkedPoint], *, zone: ZoneInfo) -> TrendView:
    """The marked points as the page shows them, dates in `zone` (the patient's, or the clinic's)."""
    sources = dict(Measurement.Source.choices)
    rows = [
        TrendRow(
            marked=item,
            date=day_label(item.point.taken_at, zone),
            instrument=INSTRUMENTS[item.point.instrument].name,
            maximum=trend.MAXIMUM[item.point.instrument],
            source=str(sources.get(item.point.source, item.point.source)),
            marks=[
                str(label)
                for flag, label in (
                    (item.baseline, _("Baseline")),
                    (item.response, _("Response")),
                    (item.remission, _("Remission")),
                )
                if flag
            ],
        )
        for item in points
    ]
    return TrendView(
        rows=rows,
        chart=trend.chart(points, date_label=lambda when: day_label(when, zone)),
        summary=" ".join(_series_summary(points, key, zone) for key in INSTRUMENTS if _of(points, key)),
    )


def _of(points: Sequence[trend.MarkedPoint], instrument: str) -> list[trend.MarkedPoint]:
    return [item for item in points if item.point.instrument == instrument]


def _series_summary(points: Sequence[trend.MarkedPoint], instrument: str, zone: ZoneInfo) -> str:
    series = _of(points, instrument)
    first, last = series[0], series[-1]
    text = ngettext(
        "%(name)s: %(count)d score, %(first)d on %(first_date)s.",
        "%(name)s: %(count)d scores, from %(first)d on %(first_date)s to %(last)d on %(last_date)s.",
        len(series),
    ) % {
        "name": INSTRUMENTS[instrument].name,
        "count": len(series),
        "first": first.point.score,
        "first_date": day_label(first.point.taken_at, zone),
        "last": last.point.score,
        "last_date": day_label(last.point.taken_at, zone),
    }
    if last.remission and last.response:
        text += " " + _("The latest is a response and a remission.")
    elif last.remission:
        text += " " + _("The latest is a remission (below 5).")
    elif last.response:
        text += " " + _("The latest is a response (at least 50 % below the baseline).")
    return text


@dataclass(frozen=True)
class VisitCheckIn:
    """What the patient's visit page says of its check-in (a treatment visit only)."""

    open: bool
    opens: datetime.datetime  # in the patient's zone
    done: bool  # both questionnaires answered


@dataclass(frozen=True)
class VisitScores:
    trend: TrendView | None  # None: no score yet
    check_in: VisitCheckIn | None  # None: not a treatment, not going ahead, or begun


def visit_scores(appointment: "Appointment", *, now: datetime.datetime | None = None) -> VisitScores:
    """The patient's trend and this visit's check-in, for the patient's own visit page (2 queries)."""
    zone = ZoneInfo(appointment.time_zone)
    kept = patient_measurements(appointment.patient)
    points = patient_trend(appointment.patient, kept)
    check_in = None
    going_ahead = appointment.status == appointment.Status.CONFIRMED and (now or timezone.now()) < appointment.start
    if is_treatment(appointment) and going_ahead:
        check_in = VisitCheckIn(
            open=check_in_open(appointment, now=now),
            opens=check_in_opens(appointment).astimezone(zone),
            done=len(check_in_answered(kept, appointment)) == len(INSTRUMENTS),
        )
    return VisitScores(trend=trend_view(points, zone=zone) if points else None, check_in=check_in)


# --- The check-in before a treatment ----------------------------------------------------------


class CheckInClosed(Exception):
    """The visit is not a treatment, not confirmed, or outside the check-in's window."""


def is_treatment(appointment: "Appointment") -> bool:
    return rules.rules_for(appointment.appointment_type.slug) is not None


def check_in_opens(appointment: "Appointment") -> datetime.datetime:
    return appointment.start - CHECK_IN_OPENS_BEFORE


def check_in_open(appointment: "Appointment", *, now: datetime.datetime | None = None) -> bool:
    """A confirmed treatment visit, from CHECK_IN_OPENS_BEFORE its start until the start."""
    now = now or timezone.now()
    return (
        is_treatment(appointment)
        and appointment.status == appointment.Status.CONFIRMED
        and check_in_opens(appointment) <= now < appointment.start
    )


def check_in_done(appointment: "Appointment") -> bool:
    """Both questionnaires of this visit's check-in are in."""
    kept = Measurement.objects.filter(appointment=appointment, source=Measurement.Source.CHECK_IN)
    return kept.count() == len(INSTRUMENTS)


def check_in_answered(measurements: Sequence[Measurement], appointment: "Appointment") -> dict[str, Measurement]:
    """This visit's check-in scores, by questionnaire."""
    return {
        m.instrument: m
        for m in measurements
        if m.appointment_id == appointment.pk and m.source == Measurement.Source.CHECK_IN
    }


def check_in_answer(
    *, appointment: "Appointment", instrument: str, answers: list[int], now: datetime.datetime | None = None
) -> tuple[Measurement, bool]:
    """Keep one questionnaire of a visit's check-in: (the score, True) or, when this visit's
    answers to it were already received, (the score kept then, False): never a second point.
    A PHQ-9 with item 9 above 0 alerts staff once the row is committed, and so does one sent
    again with item 9 above 0 after a first with 0: the score stays the first, the answer is
    never dropped. (That second alert is not swept again if its message is lost: the row holds
    no trace of the second answer but the alert itself.)"""
    now = now or timezone.now()
    if not check_in_open(appointment, now=now):
        raise CheckInClosed
    score = scoring.total(INSTRUMENTS[instrument], answers)  # InvalidAnswers for anything else
    try:
        with transaction.atomic():
            measurement = Measurement.objects.create(
                patient_id=appointment.patient_id,
                appointment=appointment,
                instrument=instrument,
                score=score,
                answers=list(answers),
                taken_at=now,
                source=Measurement.Source.CHECK_IN,
            )
    except IntegrityError:  # a second tab, a double tap: the first answers stand
        kept = Measurement.objects.get(
            appointment=appointment, instrument=instrument, source=Measurement.Source.CHECK_IN
        )
        if is_safety_answer(instrument, answers) and not has_safety_answer(kept) and kept.staff_alerted_at is None:
            _alert_on_commit(kept.pk, answered_again=True)
        return kept, False
    if has_safety_answer(measurement):
        _alert_on_commit(measurement.pk)
    return measurement, True


def _alert_on_commit(measurement_id: int, *, answered_again: bool = False) -> None:
    from treatment.tasks import alert_staff_of_check_in_safety_answer

    if answered_again:
        enqueue_on_commit(alert_staff_of_check_in_safety_answer, measurement_id, 1)
    else:
        enqueue_on_commit(alert_staff_of_check_in_safety_answer, measurement_id)


def _safety_answers():
    """Check-in PHQ-9s whose item 9 is above 0 (the JSON array's element, by index)."""
    return Measurement.objects.filter(
        source=Measurement.Source.CHECK_IN,
        instrument=Measurement.Instrument.PHQ9,
        **{f"answers__{SAFETY_ITEM_INDEX}__gt": 0},
    )


@transaction.atomic
def check_in_safety_alert(*, measurement_id: int, answered_again: bool = False) -> bool:
    """E-mail staff, once, that a check-in's safety question was answered above 0 (or, with
    `answered_again`, above 0 in answers sent again after this score). Only a link to the
    patient's record (by id): no name, no answer, no score leaves the system."""
    from screening.services import alert_recipients

    if answered_again:
        candidates = Measurement.objects.filter(
            source=Measurement.Source.CHECK_IN, instrument=Measurement.Instrument.PHQ9
        )
    else:
        candidates = _safety_answers()
    measurement = candidates.select_for_update().filter(pk=measurement_id).first()
    if measurement is None or measurement.staff_alerted_at is not None:
        return False
    recipients = alert_recipients()
    if not recipients:
        logger.error("check-in score %s: no staff e-mail to alert (set SCREENING_ALERT_EMAILS)", measurement_id)
        return False
    link = settings.SITE_URL + reverse("admin:booking_patient_record", args=[measurement.patient_id])
    taken = timezone.localtime(measurement.taken_at).strftime("%Y-%m-%d %H:%M %Z")
    send_mail(
        subject=_("Urgent: a patient's check-in needs a clinician today"),
        message=_(
            "At %(taken)s a patient's check-in before a treatment was flagged urgent by the safety "
            "question. They were shown the crisis lines at once.\n\n"
            "Please read their record and contact them today:\n%(link)s#scores\n\n"
            "No answers are included in this e-mail."
        )
        % {"taken": taken, "link": link},
        from_email=settings.DEFAULT_FROM_EMAIL,
        recipient_list=recipients,
    )
    measurement.staff_alerted_at = timezone.now()
    measurement.save(update_fields=["staff_alerted_at"])
    return True


def missed_check_in_alerts_send(*, now: datetime.datetime | None = None) -> int:
    """Alert staff of check-in safety answers whose alert message was lost (telemed/owed.py)."""
    missed = (
        _safety_answers()
        .filter(staff_alerted_at__isnull=True, **lost_since("taken_at", now or timezone.now()))
        .values_list("pk", flat=True)
    )
    return sum(check_in_safety_alert(measurement_id=pk) for pk in missed)


# --- Scores entered by a clinician ------------------------------------------------------------


def measurement_add(*, patient: "Patient", instrument: str, score: int, taken_at: datetime.datetime, by) -> Measurement:
    """A PHQ-9 or GAD-7 total a clinician took (on paper, by phone, elsewhere), as a point of the
    trend; in the audit trail as theirs. ValidationError for a score out of range or a future time."""
    measurement = Measurement(
        patient=patient,
        instrument=instrument,
        score=score,
        taken_at=taken_at,
        source=Measurement.Source.CLINICIAN,
        entered_by=by,
    )
    if instrument in trend.MAXIMUM and not 0 <= score <= trend.MAXIMUM[instrument]:
        raise ValidationError(
            {"score": _("A %(name)s score is from 0 to %(max)d.") % {"name": INSTRUMENTS[instrument].name,
                                                                    "max": trend.MAXIMUM[instrument]}}
        )  # fmt: skip
    if taken_at > timezone.now():
        raise ValidationError({"taken_at": _("The date cannot be in the future.")})
    measurement.full_clean()
    with transaction.atomic(), acting_as(by):
        measurement.save()
    return measurement
