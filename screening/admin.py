import datetime

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.timesince import timesince
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from booking.models import MAX_PLAN_SESSIONS, MAX_PLAN_SPACING_HOURS, AppointmentType
from booking.services import PlanRefused
from screening.models import Outcome, ReviewDecision, Screening
from screening.services import REVIEW_NOTE_LIMIT, PlanTerms, ReviewRefused, review_note_text, screening_review
from screening.steps import STEPS_BY_SLUG
from staff.audit import record_access, record_list_access
from staff.mixins import ClinicalRecordAdmin, clinic_time

ANSWERS_PERMISSION = "screening.view_screening_answers"
# What staff without the answers permission (the front desk) may see: who, the outcome, whether urgent.
OUTCOME_ONLY_LIST = ["__str__", "submitted_at", "outcome_badge", "reviewed_at"]
REVIEW_PERMISSION = "screening.review_screening"
PERSON_FIELDS = ("full_name", "email", "phone", "date_of_birth", "region")
QUEUE_PAGE_SIZE = 100


class ReviewedFilter(admin.SimpleListFilter):
    title = _("reviewed")
    parameter_name = "reviewed"

    def lookups(self, request, model_admin):
        return (("no", _("Not yet reviewed")), ("yes", _("Reviewed")))

    def queryset(self, request, queryset):
        if self.value() in ("yes", "no"):
            return queryset.filter(reviewed_at__isnull=self.value() == "no")
        return queryset


class SubmittedFilter(admin.SimpleListFilter):
    title = _("state")
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return (("submitted", _("Submitted")), ("unfinished", _("Unfinished")))

    def queryset(self, request, queryset):
        if self.value() in ("submitted", "unfinished"):
            return queryset.filter(submitted_at__isnull=self.value() == "unfinished")
        return queryset


class ReviewForm(forms.Form):
    """A clinician's review: a decision and a note, a reason for "not suitable", the plan's terms
    for "approve a treatment plan". Every field is on the page (no script shows or hides them)."""

    required_css_class = "required"

    decision = forms.ChoiceField(label=_("Decision"), choices=ReviewDecision.choices, widget=forms.RadioSelect)
    note = forms.CharField(
        label=_("Note"),
        max_length=REVIEW_NOTE_LIMIT,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("What you found or did: kept with the screening, for the clinic only."),
        error_messages={"required": _("Please write a note: what you found, or what you did.")},
    )
    reason = forms.CharField(
        label=_("Why not suitable"),
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Needed when the decision is \u201cNot suitable\u201d. Kept at the head of the note."),
    )
    treatment = forms.ModelChoiceField(
        label=_("Treatment"),
        queryset=AppointmentType.objects.filter(needs_approval=True, active=True).order_by("order", "name"),
        required=False,
        empty_label=_("Choose a treatment"),
    )
    sessions = forms.IntegerField(
        label=_("Sessions"),
        min_value=1,
        max_value=MAX_PLAN_SESSIONS,
        required=False,
        help_text=_("How many sessions the patient may book, 1 to %(most)d.") % {"most": MAX_PLAN_SESSIONS},
    )
    min_hours_between = forms.IntegerField(
        label=_("Minimum hours between sessions"),
        min_value=0,
        max_value=MAX_PLAN_SPACING_HOURS,
        required=False,
        help_text=_("0 to %(most)d (90 days).") % {"most": MAX_PLAN_SPACING_HOURS},
    )
    plan_note = forms.CharField(
        label=_("Plan note"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Optional, for the clinic only: the patient is not sent it."),
    )

    PLAN_FIELDS = ("treatment", "sessions", "min_hours_between", "plan_note")
    PLAN_REQUIRED = {
        "treatment": _("Please choose the treatment the plan is for."),
        "sessions": _("Please give the number of sessions, 1 to %(most)d.") % {"most": MAX_PLAN_SESSIONS},
        "min_hours_between": _("Please give the minimum hours between sessions (0 for none)."),
    }

    def clean(self):
        cleaned = super().clean()
        decision = cleaned.get("decision")
        if decision == ReviewDecision.NOT_SUITABLE:
            if not cleaned.get("reason", "").strip():
                if "reason" not in self.errors:
                    self.add_error("reason", _("Please say why the treatment is not suitable."))
            elif cleaned.get("note") and len(review_note_text(**self.review_text())) > REVIEW_NOTE_LIMIT:
                self.add_error(
                    "note",
                    _("With the reason, the note is longer than %(limit)d characters: please shorten it.")
                    % {"limit": REVIEW_NOTE_LIMIT},
                )
        if decision == ReviewDecision.PLAN:
            for name, message in self.PLAN_REQUIRED.items():
                if cleaned.get(name) is None and name not in self.errors:
                    self.add_error(name, message)
        return cleaned

    def review_text(self) -> dict:
        return {name: self.cleaned_data.get(name, "") for name in ("decision", "note", "reason")}

    def plan_terms(self) -> PlanTerms | None:
        if self.cleaned_data["decision"] != ReviewDecision.PLAN:
            return None
        return PlanTerms(
            appointment_type=self.cleaned_data["treatment"],
            sessions=self.cleaned_data["sessions"],
            min_hours_between=self.cleaned_data["min_hours_between"],
            note=self.cleaned_data["plan_note"],
        )


@admin.register(Screening)
class ScreeningAdmin(ClinicalRecordAdmin):
    list_display = [
        "__str__",
        "submitted_at",
        "outcome_badge",
        "phq9_total",
        "phq9_band",
        "gad7_total",
        "pcl5_total",
        "reviewed_at",
    ]
    list_filter = [SubmittedFilter, "outcome", "urgent", ReviewedFilter]
    search_fields = ["full_name", "email", "phone"]
    date_hierarchy = "submitted_at"
    change_form_template = "admin/screening/screening/change_form.html"
    ordering = ["-urgent", "reviewed_at", "-submitted_at"]
    fieldsets = [
        (_("Summary"), {"fields": ["outcome_badge", "summary", "reasons_list"]}),
        (_("Person"), {"fields": PERSON_FIELDS}),
        (_("Answers"), {"fields": ["answers_table"]}),
        (
            _("Review"),
            {
                "fields": [
                    "safety_flagged_at", "submitted_at", "staff_alerted_at", "reviewed_by", "reviewed_at",
                    "review_decision", "review_note", "review_overdue_alerted_at",
                ]
            },
        ),
    ]  # fmt: skip
    readonly_fields = [
        "outcome_badge", "summary", "reasons_list", "answers_table", "full_name", "email", "phone", "date_of_birth",
        "region", "safety_flagged_at", "submitted_at", "staff_alerted_at", "reviewed_by", "reviewed_at",
        "review_decision", "review_note", "review_overdue_alerted_at",
    ]  # fmt: skip

    def has_add_permission(self, request):
        return False  # screenings come from patients only

    def get_list_display(self, request):
        return self.list_display if request.user.has_perm(ANSWERS_PERMISSION) else OUTCOME_ONLY_LIST

    def get_fieldsets(self, request, obj=None):
        if request.user.has_perm(ANSWERS_PERMISSION):
            return self.fieldsets
        # Not when a safety answer was given: it is set by PHQ-9 item 9 alone, an answer. The
        # urgent outcome says what front desk needs (call-backs first).
        return [
            (_("Summary"), {"fields": ["outcome_badge"]}),
            *(fieldset for fieldset in self.fieldsets if fieldset[0] == _("Person")),
            (
                _("Review"),
                {"fields": ["submitted_at", "staff_alerted_at", "reviewed_by", "reviewed_at", "review_decision"]},
            ),
        ]

    def list_access_shown(self, request) -> str:
        return "screening scores" if request.user.has_perm(ANSWERS_PERMISSION) else ""

    def access_shown(self, request, obj) -> str:
        return "screening answers" if request.user.has_perm(ANSWERS_PERMISSION) else "screening outcome"

    @admin.display(description=_("outcome"), ordering="outcome")
    def outcome_badge(self, obj):
        label = Outcome(obj.outcome).label if obj.outcome else _("Unfinished")
        css = {Outcome.URGENT: "danger", Outcome.NOT_SUITABLE: "warning", Outcome.REVIEW: "info"}.get(obj.outcome, "ok")
        suffix = ""
        if obj.urgent and obj.clinical_outcome and obj.clinical_outcome != Outcome.ELIGIBLE:  # not on a draft
            suffix = f" + {Outcome(obj.clinical_outcome).label}"
        return format_html('<strong class="outcome-{}">{}{}</strong>', css, label, suffix)

    @admin.display(description=_("scores"))
    def summary(self, obj):
        if not obj.submitted_at:
            return _("Not submitted yet.")
        rows = [
            ("PHQ-9", f"{obj.phq9_total} / 27 ({obj.phq9_band})"),
            ("GAD-7", f"{obj.gad7_total} / 21 ({obj.gad7_band})"),
        ]
        if obj.pcl5_total is not None:
            rows.append(
                ("PCL-5", f"{obj.pcl5_total} / 80 ({'provisional positive' if obj.pcl5_positive else 'below 33'})")
            )
        rows.append((_("Flags"), ", ".join(obj.flags) or "—"))
        return format_html("<table>{}</table>", format_html_join("", "<tr><th>{}</th><td>{}</td></tr>", rows))

    @admin.display(description=_("reasons"))
    def reasons_list(self, obj):
        if not obj.reasons:
            return "—"
        return format_html(
            "<ul>{}</ul>",
            format_html_join(
                "",
                "<li><strong>{}</strong> ({}) — <em>{}</em></li>",
                ((reason["text"], reason["outcome"], reason["source"]) for reason in obj.reasons),
            ),
        )

    @admin.display(description=_("answers"))
    def answers_table(self, obj):
        rows = []
        for slug, answers in obj.step_answers.items():
            step = STEPS_BY_SLUG.get(slug)
            if step is None:
                continue
            fields = step.form_class.base_fields
            for name, value in answers.items():
                field = fields.get(name)
                if field is None:
                    continue
                if hasattr(field, "choices"):
                    labels = {str(key): str(label) for key, label in field.choices}
                    values = value if isinstance(value, list) else [value]
                    value = ", ".join(labels.get(str(v), str(v)) for v in values if v not in (None, ""))
                rows.append((step.title, field.label, value if value not in (None, "", []) else "—"))
        return format_html(
            '<table class="screening-answers">{}</table>',
            format_html_join("", "<tr><td>{}</td><td>{}</td><td><strong>{}</strong></td></tr>", rows),
        )

    # --- The review queue and the review (clinicians) ----------------------------------

    def get_urls(self):
        return [
            path(
                "review/", self.admin_site.admin_view(self.review_queue_view), name="screening_screening_review_queue"
            ),
            path(
                "<int:screening_id>/review/",
                self.admin_site.admin_view(self.review_view),
                name="screening_screening_review",
            ),
            *super().get_urls(),
        ]

    @staticmethod
    def _check_reviewer(request) -> None:
        """A review reads the answers: both permissions (the Clinician and Manager roles hold them)."""
        if not (request.user.has_perm(REVIEW_PERMISSION) and request.user.has_perm(ANSWERS_PERMISSION)):
            raise PermissionDenied

    def review_queue_view(self, request):
        """Submitted screenings not yet reviewed: urgent first, then the longest waiting."""
        self._check_reviewer(request)
        waiting = (
            Screening.objects.submitted()
            .filter(reviewed_at__isnull=True)
            .only("pk", "submitted_at", "outcome", "clinical_outcome", "urgent", "phq9_total", "gad7_total")
            .order_by("-urgent", "submitted_at", "pk")
        )
        page = Paginator(waiting, QUEUE_PAGE_SIZE).get_page(request.GET.get("page"))
        now = timezone.now()
        overdue_before = now - datetime.timedelta(hours=settings.URGENT_REVIEW_HOURS)
        rows = [
            {
                "screening": screening,
                "waited": gettext("%(time)s ago") % {"time": timesince(screening.submitted_at, now, depth=1)},
                "submitted": clinic_time(screening.submitted_at),
                "outcome": self.outcome_badge(screening),
                "overdue": screening.urgent and screening.submitted_at <= overdue_before,
            }
            for screening in page.object_list
        ]
        record_list_access(request, [row["screening"] for row in rows], shown="screening scores")
        context = {
            **self.admin_site.each_context(request),
            "title": _("Screenings to review"),
            "opts": self.model._meta,
            "rows": rows,
            "page": page,
            "urgent_review_hours": settings.URGENT_REVIEW_HOURS,
        }
        return TemplateResponse(request, "admin/screening/review_queue.html", context)

    def review_view(self, request, screening_id: int):
        self._check_reviewer(request)
        screening = get_object_or_404(Screening.objects.select_related("reviewed_by"), pk=screening_id)
        if screening.submitted_at is None:
            form = None
        else:
            form = ReviewForm(request.POST if request.method == "POST" else None)
        if form is not None and form.is_valid():
            try:
                screening_review(
                    screening=screening,
                    by=request.user,
                    plan=form.plan_terms(),
                    **form.review_text(),
                )
            except (ReviewRefused, PlanRefused) as refused:
                form.add_error(None, str(refused))
            else:
                self.message_user(request, _review_done_message(screening, form), messages.SUCCESS)
                return redirect("admin:screening_screening_review_queue")
        record_access(screening, shown="screening answers")
        title = _("Review %(screening)s") % {"screening": screening}
        context = {
            **self.admin_site.each_context(request),
            "title": (gettext("Error: %(title)s") % {"title": title}) if form is not None and form.errors else title,
            "heading": title,
            "opts": self.model._meta,
            "screening": screening,
            "form": form,
            "submitted": clinic_time(screening.submitted_at),
            "waited": timesince(screening.submitted_at) if screening.submitted_at else "",
            "reviewed": clinic_time(screening.reviewed_at) if screening.reviewed_at else "",
            "outcome": self.outcome_badge(screening),
            "summary": self.summary(screening),
            "reasons": self.reasons_list(screening),
            "answers": self.answers_table(screening),
            "person": [
                (field.verbose_name, getattr(screening, field.name))
                for field in Screening._meta.concrete_fields
                if field.name in PERSON_FIELDS
            ],
        }
        return TemplateResponse(request, "admin/screening/review.html", context)


def _review_done_message(screening: Screening, form: ReviewForm) -> str:
    decision = ReviewDecision(form.cleaned_data["decision"])
    if decision == ReviewDecision.PLAN:
        return gettext(
            "%(screening)s reviewed: treatment plan approved, %(sessions)d session(s) of %(treatment)s; "
            "the patient is being e-mailed a booking link."
        ) % {
            "screening": screening,
            "sessions": form.cleaned_data["sessions"],
            "treatment": form.cleaned_data["treatment"].name,
        }
    return gettext("%(screening)s reviewed: %(decision)s.") % {"screening": screening, "decision": decision.label}
