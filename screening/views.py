from django.contrib import messages
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_safe

from screening import services
from screening.forms import answered_date_of_birth
from screening.models import Outcome, Screening
from screening.steps import STEPS_BY_SLUG, active_steps, first_incomplete
from screening.triage import ADULT_AGE
from telemed.limits import over_limit
from telemed.views import rate_limited

DRAFT_SESSION_KEY = "screening_draft"


def current_draft(request) -> Screening | None:
    draft_id = request.session.get(DRAFT_SESSION_KEY)
    if draft_id is None:
        return None
    return Screening.objects.filter(pk=draft_id, submitted_at__isnull=True).first()


def step_url(slug: str) -> str:
    return reverse("screening:step", kwargs={"slug": slug})


def initial_from_typed(form_class, typed: dict) -> dict:
    """Turn raw form input kept in the draft back into initial values for the form's fields."""
    initial = {}
    for name, field in form_class.base_fields.items():
        if name in typed:
            values = typed[name]
            initial[name] = values if hasattr(field, "choices") and field.widget.allow_multiple_selected else values[0]
    return initial


@require_safe
def start(request):
    draft = current_draft(request)
    resume = first_incomplete(draft.step_answers) if draft else None
    return render(
        request, "screening/start.html", {"resume": resume, "meta": {"title": _("Pre-consultation screening")}}
    )


@never_cache
@require_http_methods(["GET", "POST"])
def step(request, slug: str):
    draft = current_draft(request)
    step_answers = draft.step_answers if draft else {}
    steps = active_steps(step_answers)
    current = STEPS_BY_SLUG.get(slug)
    if current is None or current not in steps:
        raise Http404
    position = steps.index(current)
    missing = first_incomplete(step_answers)
    if missing and steps.index(missing) < position:
        return redirect(step_url(missing.slug))

    if request.method == "POST":
        typed = {name: request.POST.getlist(name) for name in current.form_class.base_fields if name in request.POST}
        form = current.form_class(request.POST)
        if request.POST.get("action") == "back" and position > 0:
            if form.is_valid():
                draft = services.screening_step_save(screening=draft, step=slug, cleaned=form.cleaned_data, typed=typed)
            else:
                draft = services.screening_typed_save(screening=draft, step=slug, typed=typed)
            request.session[DRAFT_SESSION_KEY] = draft.pk
            if slug == "phq9" and form.is_valid() and services.needs_support_now(form.cleaned_data):
                return redirect("screening:support")  # help first, whichever way they leave the page
            return redirect(step_url(steps[position - 1].slug))
        valid = form.is_valid()
        if valid and slug == "about" and answered_date_of_birth(form.cleaned_data["date_of_birth"]) < ADULT_AGE:
            # Adults only: nothing more is asked (services.screening_stop_under_18 says what is kept).
            services.screening_stop_under_18(screening=draft, cleaned=form.cleaned_data, typed=typed)
            request.session.pop(DRAFT_SESSION_KEY, None)
            return render(
                request,
                "screening/adults_only.html",
                {"meta": {"title": _("Our clinic treats adults"), "noindex": True}},
            )
        if valid and draft is None and _too_many_starts(request, form.cleaned_data):
            return rate_limited(request)
        if valid:
            draft = services.screening_step_save(screening=draft, step=slug, cleaned=form.cleaned_data, typed=typed)
            request.session[DRAFT_SESSION_KEY] = draft.pk
            if slug == "phq9" and services.needs_support_now(form.cleaned_data):
                return redirect("screening:support")
            following = active_steps(draft.step_answers)
            index = following.index(current)
            return redirect(
                step_url(following[index + 1].slug) if index + 1 < len(following) else reverse("screening:review")
            )
    else:
        typed = draft.typed_answers.get(slug, {}) if draft else {}
        form = current.form_class(initial=initial_from_typed(current.form_class, typed))

    return render(
        request,
        "screening/step.html",
        {
            "form": form,
            "step": current,
            "steps": steps,
            "position": position + 1,
            "previous": steps[position - 1] if position else None,
            "meta": {"title": _("Screening: %(step)s") % {"step": current.title}, "noindex": True},
        },
    )


def _too_many_starts(request, cleaned: dict) -> bool:
    """A new screening, from this address or for this e-mail, over the limit (telemed/limits.py)."""
    return over_limit(request, "screening-start") or (
        "email" in cleaned and over_limit(request, "screening-start", by=cleaned["email"])
    )


@never_cache
@require_safe
def support(request):
    """After a safety answer: help now, before anything else is asked; then the screening goes on."""
    draft = current_draft(request)
    following = first_incomplete(draft.step_answers) if draft else None
    if following:
        carry_on = step_url(following.slug)
    else:
        carry_on = reverse("screening:review") if draft else reverse("screening:start")
    return render(
        request,
        "screening/support.html",
        {"carry_on": carry_on, "meta": {"title": _("Support, right now"), "noindex": True}},
    )


@never_cache
@require_http_methods(["GET", "POST"])
def review(request):
    draft = current_draft(request)
    if draft is None:
        return redirect("screening:start")
    missing = first_incomplete(draft.step_answers)
    if missing:
        messages.info(request, _("A few answers are still needed before you can submit."))
        return redirect(step_url(missing.slug))
    if request.method == "POST":
        if over_limit(request, "screening-submit") or over_limit(request, "screening-submit", by=draft.email):
            return rate_limited(request, kept=True)  # the draft stays; a safety answer has alerted staff already
        try:
            screening = services.screening_submit(screening=draft)
        except services.ScreeningIncomplete as incomplete:
            return redirect(step_url(incomplete.step_slug))
        del request.session[DRAFT_SESSION_KEY]
        return HttpResponseRedirect(reverse("screening:result", kwargs={"token": screening.token}))
    return render(
        request,
        "screening/review.html",
        {
            "screening": draft,
            "sections": review_sections(draft),
            "steps": active_steps(draft.step_answers),
            "step": None,
            "position": len(active_steps(draft.step_answers)) + 1,
            "age": answered_date_of_birth(draft.date_of_birth),
            "meta": {"title": _("Screening: check your answers"), "noindex": True},
        },
    )


def review_sections(screening: Screening) -> list[dict]:
    """Each step's questions with the answers given, in the words the person saw."""
    sections = []
    for current in active_steps(screening.step_answers):
        form = current.form_class()
        answers = screening.step_answers[current.slug]
        rows = []
        for name, field in form.fields.items():
            value = answers.get(name)
            if value is None or value is False or value == "" or value == []:
                continue  # not answered (0, "Not at all", is an answer and is shown)
            if hasattr(field, "choices"):
                labels = dict((str(key), label) for key, label in field.choices)
                shown = ", ".join(str(labels.get(str(v), v)) for v in (value if isinstance(value, list) else [value]))
            elif isinstance(value, bool):
                shown = _("Yes") if value else _("No")
            else:
                shown = value
            rows.append((field.label, shown))
        sections.append({"step": current, "rows": rows})
    return sections


@never_cache
@require_safe
def result(request, token: str):
    screening = get_object_or_404(Screening.objects.submitted(), token=token)
    if screening.result_expires_at <= timezone.now():
        return render(
            request,
            "screening/result_expired.html",
            {"meta": {"title": _("Link expired"), "noindex": True}},
            status=410,
        )
    return render(
        request,
        "screening/result.html",
        {
            "screening": screening,
            "under_18": any(reason["rule"] == "under_18" for reason in screening.reasons),
            "review_reasons": [reason for reason in screening.reasons if reason["outcome"] == Outcome.REVIEW],
            "meta": {"title": _("Your screening result"), "noindex": True},
        },
    )
