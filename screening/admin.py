from django.contrib import admin, messages
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from screening.models import Outcome, Screening
from screening.services import screenings_mark_reviewed
from screening.steps import STEPS_BY_SLUG
from staff.mixins import ClinicalRecordAdmin

ANSWERS_PERMISSION = "screening.view_screening_answers"
# What staff without the answers permission (the front desk) may see: who, the outcome, whether urgent.
OUTCOME_ONLY_LIST = ["__str__", "submitted_at", "outcome_badge", "reviewed_at"]


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
    actions = ["mark_reviewed"]
    ordering = ["-urgent", "reviewed_at", "-submitted_at"]
    fieldsets = [
        (_("Summary"), {"fields": ["outcome_badge", "summary", "reasons_list"]}),
        (_("Person"), {"fields": ["full_name", "email", "phone", "date_of_birth", "region"]}),
        (_("Answers"), {"fields": ["answers_table"]}),
        (
            _("Review"),
            {"fields": ["safety_flagged_at", "submitted_at", "staff_alerted_at", "reviewed_by", "reviewed_at"]},
        ),
    ]
    readonly_fields = [
        "outcome_badge", "summary", "reasons_list", "answers_table", "full_name", "email", "phone", "date_of_birth",
        "region", "safety_flagged_at", "submitted_at", "staff_alerted_at", "reviewed_by", "reviewed_at",
    ]  # fmt: skip

    def has_add_permission(self, request):
        return False  # screenings come from patients only

    def has_review_permission(self, request) -> bool:
        return request.user.has_perm("screening.review_screening")

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
            (_("Review"), {"fields": ["submitted_at", "staff_alerted_at", "reviewed_by", "reviewed_at"]}),
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

    @admin.action(description=_("Mark selected screenings as reviewed"), permissions=["review"])
    def mark_reviewed(self, request, queryset):
        count = screenings_mark_reviewed(screenings=queryset, user=request.user)
        self.message_user(request, _("%(count)d screening(s) marked as reviewed.") % {"count": count}, messages.SUCCESS)
