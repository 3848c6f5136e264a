"""Every write of the screening app."""

import dataclasses
import datetime
import json
import logging
from typing import TYPE_CHECKING, cast

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from screening import scoring, triage
from screening.instruments import GAD7, PCL5, PHQ9
from screening.models import UNFINISHED_KEPT_DAYS, ReviewDecision, Screening
from screening.step_rules import active_step_slugs, first_incomplete_slug
from staff.audit import acting_as
from telemed.owed import lost_since
from telemed.people import age_on
from telemed.queueing import enqueue_on_commit

if TYPE_CHECKING:
    from booking.models import AppointmentType

logger = logging.getLogger(__name__)

TYPED_VALUE_LIMIT = 1000  # what we keep of a field typed but not yet valid


class ScreeningIncomplete(Exception):
    def __init__(self, step_slug: str):
        super().__init__(step_slug)
        self.step_slug = step_slug


def _json(value) -> dict:
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))


def screening_step_save(*, screening: Screening | None, step: str, cleaned: dict, typed: dict) -> Screening:
    """Keep a valid step's answers (and what was typed, to show it again); starts the draft if needed."""
    screening = screening or Screening()
    steps = {**screening.step_answers, step: _json(cleaned)}
    screening.answers = {"steps": steps, "typed": {**screening.typed_answers, step: _limited(typed)}}
    if step == "about":
        for name in ("full_name", "email", "phone", "date_of_birth", "region"):
            setattr(screening, name, cleaned[name])
    flagged_now = step == "phq9" and needs_support_now(cleaned) and screening.safety_flagged_at is None
    if flagged_now:
        # Staff are alerted now, from the contact details of the first step, whether or not the
        # screening is ever finished; the alert's own guard keeps a finished one from a second.
        screening.safety_flagged_at = timezone.now()
        screening.urgent = True
    screening.save()
    if flagged_now:
        _alert_on_commit(screening.pk)
    return screening


def needs_support_now(cleaned_phq9: dict) -> bool:
    """A PHQ-9 answered with item 9 (thoughts of being better off dead or of self-harm) above 0."""
    return scoring.phq9_self_harm([cleaned_phq9.get(f"item_{n}", 0) for n in range(1, len(PHQ9.items) + 1)]) > 0


def _alert_on_commit(screening_id: int) -> None:
    """Broker down: the person still gets their page at once; the row is what the sweep finds."""
    from screening.tasks import alert_staff_of_urgent_screening

    enqueue_on_commit(alert_staff_of_urgent_screening, screening_id)


UNDER_18_FLAG = "stated_under_18"


def screening_stop_under_18(*, screening: Screening | None, cleaned: dict, typed: dict) -> None:
    """A date of birth under 18 ends the screening. Nothing of a minor's is kept, unless they had
    already answered the safety question: staff must still reach them, and must know their age."""
    if screening is None or screening.pk is None:
        return
    # Read again, not trusted from the caller's copy: another tab may have flagged or submitted it.
    if Screening.objects.filter(pk=screening.pk, submitted_at__isnull=True, safety_flagged_at__isnull=True).delete()[0]:
        return
    kept = Screening.objects.filter(pk=screening.pk, submitted_at__isnull=True).first()
    if kept is not None:
        kept.flags = [*(flag for flag in kept.flags if flag != UNDER_18_FLAG), UNDER_18_FLAG]
        screening_step_save(screening=kept, step="about", cleaned=cleaned, typed=typed)


def screening_typed_save(*, screening: Screening | None, step: str, typed: dict) -> Screening:
    """Keep what was typed on a step left with Back, valid or not, so nothing is lost."""
    screening = screening or Screening()
    screening.answers = {**screening.answers, "typed": {**screening.typed_answers, step: _limited(typed)}}
    screening.save()
    return screening


def _limited(typed: dict) -> dict:
    """Bounded, storable copies of raw input (PostgreSQL's JSON cannot hold NUL characters)."""
    return {
        name: [value.replace("\x00", "")[:TYPED_VALUE_LIMIT] for value in values[:50]]
        for name, values in list(typed.items())[:100]
    }


@transaction.atomic
def screening_submit(*, screening: Screening) -> Screening:
    """Score, triage and submit; an urgent screening alerts staff once the row is committed."""
    screening = Screening.objects.select_for_update().get(pk=screening.pk)
    if screening.submitted_at:
        return screening
    steps = screening.step_answers
    missing = first_incomplete_slug(steps)
    if missing:
        raise ScreeningIncomplete(missing)

    phq9 = [steps["phq9"][f"item_{n}"] for n in range(1, len(PHQ9.items) + 1)]
    gad7 = [steps["gad7"][f"item_{n}"] for n in range(1, len(GAD7.items) + 1)]
    screening.phq9_total = scoring.phq9_total(phq9)
    screening.phq9_band = scoring.phq9_band(screening.phq9_total)
    screening.gad7_total = scoring.gad7_total(gad7)
    screening.gad7_band = scoring.gad7_band(screening.gad7_total)
    active = active_step_slugs(steps)
    if "pcl5" in active:
        screening.pcl5_total = scoring.pcl5_total([steps["pcl5"][f"item_{n}"] for n in range(1, len(PCL5.items) + 1)])
        screening.pcl5_positive = scoring.pcl5_positive(screening.pcl5_total)

    result = triage.triage(
        # The about step required the date and refused impossible ones when it was answered.
        age=age_on(cast(datetime.date, screening.date_of_birth), timezone.localdate()),
        phq9_item9=scoring.phq9_self_harm(phq9),
        conditions=frozenset(steps["health"]["conditions"]),
        medications=frozenset(steps["medications"]["medications"]),
    )
    if screening.safety_flagged_at and not result.urgent:
        # Item 9 was changed back to 0 after the support page: the earlier answer still stands.
        result = dataclasses.replace(
            result,
            outcome=triage.URGENT,
            urgent=True,
            flags=(triage.URGENT, *result.flags),
            reasons=(triage.SAFETY_ANSWER_CHANGED, *result.reasons),
        )
    screening.outcome = result.outcome
    screening.clinical_outcome = result.clinical_outcome
    screening.urgent = result.urgent
    if result.urgent and screening.safety_flagged_at is None:
        screening.safety_flagged_at = timezone.now()
    screening.flags = list(result.flags)
    screening.reasons = [reason.__dict__ for reason in result.reasons]
    # Keep only the answers that count: no typed copies, no answers to a step that no longer applies.
    screening.answers = {"steps": {slug: steps[slug] for slug in active}}
    screening.submitted_at = timezone.now()
    screening.save()
    if screening.urgent:
        _alert_on_commit(screening.pk)
    return screening


def alert_recipients() -> list[str]:
    if settings.SCREENING_ALERT_EMAILS:
        return list(settings.SCREENING_ALERT_EMAILS)
    staff = get_user_model().objects.filter(is_active=True, is_staff=True).exclude(email="")
    return list(staff.values_list("email", flat=True))


@transaction.atomic
def urgent_screening_alert(*, screening_id: int) -> bool:
    """E-mail staff about an urgent screening, once. Only a link: no answers leave the system."""
    screening = Screening.objects.select_for_update().filter(pk=screening_id, urgent=True).first()
    if screening is None or screening.staff_alerted_at:
        return False
    recipients = alert_recipients()
    if not recipients:
        logger.error("urgent screening %s: no staff e-mail to alert (set SCREENING_ALERT_EMAILS)", screening_id)
        return False
    link = settings.SITE_URL + reverse("admin:screening_screening_change", args=[screening.pk])
    flagged = timezone.localtime(screening.safety_flagged_at or screening.submitted_at).strftime("%Y-%m-%d %H:%M %Z")
    finished = (
        _("The screening has been submitted.")
        if screening.submitted_at
        else _("The person has not finished the screening (and may never): their contact details are on the record.")
    )
    send_mail(
        subject=_("Urgent: a screening needs a clinician today"),
        message=_(
            "At %(flagged)s a screening was flagged urgent by the safety question. %(finished)s\n\n"
            "Please review it and contact the person today:\n%(link)s\n\n"
            "No answers are included in this e-mail."
        )
        % {"flagged": flagged, "finished": finished, "link": link},
        from_email=settings.DEFAULT_FROM_EMAIL,
        recipient_list=recipients,
    )
    screening.staff_alerted_at = timezone.now()
    screening.save(update_fields=["staff_alerted_at"])
    return True


def missed_urgent_alerts_send(*, now: datetime.datetime | None = None) -> int:
    """Alert staff of urgent screenings, finished or not, whose alert message was lost (telemed/owed.py): every minute
    (beat). Older ones are past help by e-mail: the admin lists urgent screenings. Returns how many."""
    missed = Screening.objects.filter(
        urgent=True, staff_alerted_at__isnull=True, **lost_since("safety_flagged_at", now or timezone.now())
    ).values_list("pk", flat=True)
    return sum(urgent_screening_alert(screening_id=screening_id) for screening_id in missed)


def unfinished_screenings_purge(*, now: datetime.datetime | None = None) -> int:
    cutoff = (now or timezone.now()) - datetime.timedelta(days=UNFINISHED_KEPT_DAYS)
    deleted, _ = Screening.objects.unfinished_before(cutoff).delete()
    return deleted


REVIEW_NOTE_LIMIT = 2000


class ReviewRefused(Exception):
    """A review that cannot be recorded as given; the message is written for the clinician."""


@dataclasses.dataclass(frozen=True)
class PlanTerms:
    """The treatment plan a review approves (booking.services.treatment_plan_approve)."""

    appointment_type: "AppointmentType"
    sessions: int
    min_hours_between: int
    note: str = ""


def review_note_text(*, decision: str, note: str, reason: str = "") -> str:
    """The review note as kept: for "not suitable", the reason first on a line of its own, then the note."""
    if decision == ReviewDecision.NOT_SUITABLE:
        return _("Not suitable: %(reason)s") % {"reason": reason.strip()} + "\n\n" + note.strip()
    return note.strip()


def screening_review(
    *,
    screening: Screening,
    by,
    decision: str,
    note: str,
    reason: str = "",
    plan: PlanTerms | None = None,
    now: datetime.datetime | None = None,
) -> Screening:
    """Record a clinician's review of a submitted screening: who, when, the decision and a note.
    "Not suitable" needs a reason (kept at the head of the note) and ends the open plans that
    rest on this screening; "approve a treatment plan" approves `plan` in the same transaction,
    so a refused plan leaves the screening as it was. A later review replaces the decision; the
    audit trail keeps every one."""
    from booking.services import treatment_plan_approve, treatment_plan_end

    now = now or timezone.now()
    decision = ReviewDecision(decision)
    if not note.strip():
        raise ReviewRefused(_("Please write a note: what you found, or what you did."))
    if decision == ReviewDecision.NOT_SUITABLE and not reason.strip():
        raise ReviewRefused(_("Please say why the treatment is not suitable."))
    if decision == ReviewDecision.PLAN and plan is None:
        raise ReviewRefused(_("Please give the plan's treatment, sessions and spacing."))
    text = review_note_text(decision=decision, note=note, reason=reason)
    if len(text) > REVIEW_NOTE_LIMIT:
        raise ReviewRefused(
            _("The note and the reason together are longer than %(limit)d characters: please shorten them.")
            % {"limit": REVIEW_NOTE_LIMIT}
        )
    with transaction.atomic(), acting_as(by):
        locked = Screening.objects.select_for_update().get(pk=screening.pk)
        if locked.submitted_at is None:
            raise ReviewRefused(_("This screening has not been submitted yet: there is nothing to review."))
        locked.reviewed_by, locked.reviewed_at = by, now
        locked.review_decision, locked.review_note = decision, text
        locked.save(update_fields=["reviewed_by", "reviewed_at", "review_decision", "review_note", "updated_at"])
        if plan is not None and decision == ReviewDecision.PLAN:
            # After the review is saved: a plan rests on a reviewed screening. PlanRefused rolls both back.
            treatment_plan_approve(
                screening=locked,
                appointment_type=plan.appointment_type,
                sessions=plan.sessions,
                min_hours_between=plan.min_hours_between,
                note=plan.note,
                by=by,
                now=now,
            )
        elif decision == ReviewDecision.NOT_SUITABLE:
            for open_plan in locked.treatment_plans.filter(ended_at__isnull=True):
                treatment_plan_end(plan=open_plan, reason=text.splitlines()[0][:500], now=now)
    return locked


def review_recipients() -> list[str]:
    """The clinicians: active staff allowed to review screenings, with an e-mail; when there are
    none, whoever is alerted of an urgent screening (alert_recipients)."""
    clinicians = (
        get_user_model()
        .objects.with_perm(
            "screening.review_screening", is_active=True, backend="django.contrib.auth.backends.ModelBackend"
        )
        .filter(is_staff=True)
        .exclude(email="")
    )
    return list(clinicians.values_list("email", flat=True)) or alert_recipients()


def overdue_urgent_reviews_alert(*, now: datetime.datetime | None = None) -> int:
    """Alert the clinicians again, once each, of urgent screenings still unreviewed
    URGENT_REVIEW_HOURS after submission (every 5 minutes, beat). Returns how many."""
    now = now or timezone.now()
    overdue = _overdue_urgent(now).values_list("pk", flat=True)
    if not overdue:
        return 0
    recipients = review_recipients()
    if not recipients:
        logger.error("overdue urgent review: no clinician e-mail to alert (set SCREENING_ALERT_EMAILS)")
        return 0
    return sum(_overdue_review_alert(screening_id=pk, recipients=recipients, now=now) for pk in overdue)


def _overdue_urgent(now: datetime.datetime):
    # Clock hours, not business hours: an urgent screening means a safety answer, and nights
    # and weekends are when nobody else is looking.
    submitted_before = now - datetime.timedelta(hours=settings.URGENT_REVIEW_HOURS)
    return Screening.objects.filter(
        urgent=True,
        submitted_at__lte=submitted_before,
        reviewed_at__isnull=True,
        review_overdue_alerted_at__isnull=True,
    )


def _overdue_review_alert(*, screening_id: int, recipients: list[str], now: datetime.datetime) -> bool:
    """One e-mail, claimed by the row: a second beat run skips the locked row, then finds it alerted."""
    with transaction.atomic():
        screening = (
            _overdue_urgent(now).select_for_update(skip_locked=True).filter(pk=screening_id).only("pk", "submitted_at")
        ).first()
        if screening is None:
            return False
        hours = int((now - cast(datetime.datetime, screening.submitted_at)).total_seconds() // 3600)
        link = settings.SITE_URL + reverse("admin:screening_screening_review", args=[screening.pk])
        waited = ngettext(
            "An urgent screening has waited %(hours)d hour for review.",
            "An urgent screening has waited %(hours)d hours for review.",
            hours,
        ) % {"hours": hours}
        send_mail(
            subject=_("Urgent: a screening is still waiting for review"),
            message=_("%(waited)s\n\nPlease review it and contact the person today:\n%(link)s\n\n")
            % {"waited": waited, "link": link}
            + _("No answers are included in this e-mail."),
            from_email=settings.DEFAULT_FROM_EMAIL,
            recipient_list=recipients,
        )
        screening.review_overdue_alerted_at = now
        screening.save(update_fields=["review_overdue_alerted_at"])
    return True
