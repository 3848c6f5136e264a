"""The patient's check-in before a treatment (/appointments/<token>/check-in/, the visit's private
link): the PHQ-9, then the GAD-7, in the screening's own forms and words, one page each.

A PHQ-9 whose item 9 is above 0 follows the screening's safety path at once: staff are alerted
(treatment/measurements.py) and every following page of the check-in opens with the crisis lines.
"""

from zoneinfo import ZoneInfo

from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from booking.views import appointment_by_token, appointment_page
from screening.forms import QuestionnaireForm, questionnaire_form
from screening.steps import STEPS_BY_SLUG
from telemed.limits import over_limit
from telemed.views import rate_limited
from treatment import measurements
from treatment.measurements import INSTRUMENTS
from treatment.models import Measurement

PHQ9_KEY = Measurement.Instrument.PHQ9
ORDER = (PHQ9_KEY, Measurement.Instrument.GAD7)
# The scored items only: the PHQ-9's difficulty question is not part of its score and is not kept.
FORMS: dict[str, type[QuestionnaireForm]] = {key: questionnaire_form(INSTRUMENTS[key]) for key in ORDER}


def _answers(form: QuestionnaireForm) -> list[int]:
    return [form.cleaned_data[f"item_{n}"] for n in range(1, len(form.instrument.items) + 1)]


@never_cache
@require_http_methods(["GET", "POST"])
def check_in(request, token: str):
    appointment = appointment_by_token(token)
    if not measurements.is_treatment(appointment):
        raise Http404  # no check-in for a consultation
    answered = {
        m.instrument: m
        for m in Measurement.objects.filter(appointment=appointment, source=Measurement.Source.CHECK_IN).only(
            "instrument", "score", "answers", "staff_alerted_at"
        )
    }
    is_open = measurements.check_in_open(appointment)
    form, posted_safety_answer, status = None, False, 200
    already = INSTRUMENTS[request.GET["already"]].name if request.GET.get("already") in INSTRUMENTS else ""
    if request.method == "POST":
        key = request.POST.get("questionnaire", "")
        if key not in FORMS:
            status = 400  # nothing the page could have sent: show the next questionnaire afresh
        else:
            form = FORMS[key](request.POST)
            valid = form.is_valid()
            posted_safety_answer = valid and measurements.is_safety_answer(key, _answers(form))
            if key in answered and not posted_safety_answer:
                return redirect(reverse("booking:check_in", args=[token]) + f"?already={key}")
            if not is_open:
                form, status = None, 409  # a safety answer still brings the crisis lines below
            elif valid:
                if over_limit(request, "check-in"):
                    return rate_limited(request)
                try:
                    _kept, created = measurements.check_in_answer(
                        appointment=appointment, instrument=key, answers=_answers(form)
                    )
                except measurements.CheckInClosed:
                    form, status = None, 409
                else:
                    if created:
                        return redirect("booking:check_in", token=token)
                    # Answered before, item 9 above 0 now: the first score stands, staff are alerted.
                    form, already = None, INSTRUMENTS[key].name
    following = next((key for key in ORDER if key not in answered), None)
    if form is None and is_open and following:
        form = FORMS[following]()
    current = form.instrument.key if form is not None else None
    kept = answered.get(PHQ9_KEY)
    safety = kept is not None and (measurements.has_safety_answer(kept) or kept.staff_alerted_at is not None)
    return _page(
        request,
        appointment,
        status=status,
        form=form,
        step=STEPS_BY_SLUG[current] if current else None,
        number=ORDER.index(current) + 1 if current else None,
        count=len(ORDER),
        answered=[answered[key] for key in ORDER if key in answered],
        is_open=is_open,
        opens=measurements.check_in_opens(appointment).astimezone(ZoneInfo(appointment.time_zone)),
        started=timezone.now() >= appointment.start,
        safety=safety or posted_safety_answer,
        # Staff are told only of answers kept: a safety answer sent after the questions closed is
        # not stored, and the page must not say that anyone knows.
        staff_told=safety,
        already=already,
    )


def _page(request, appointment, *, status: int, **context):
    response = appointment_page(
        request, "treatment/check_in.html", appointment, _("Before your visit: how you have been"), **context
    )
    response.status_code = status
    return response
