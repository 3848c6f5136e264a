from datetime import date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import ProhibitNullCharactersValidator
from django.db import models
from django.db.models import Value
from django.db.models.functions import Replace
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from booking.models import (
    Appointment,
    AppointmentType,
    Clinician,
    Patient,
    PatientNote,
    TimeOff,
    TreatmentPlan,
    WorkingHours,
)
from booking.patient_record import patient_record, record_patient
from booking.selectors import plan_sessions_left, plans_with_use, visit_placement
from booking.services import (
    CHARTED_REFUSAL,
    REMS_STAFF_REFUSAL,
    VisitActionRefused,
    appointment_cancel,
    appointment_staff_save,
    appointments_complete,
    appointments_no_show,
    charted_change_refused,
    patient_note_add,
    placement_reasons,
    rems_enrollment_record,
    rems_unenrolled,
    ride_home_confirm,
    treatment_plan_end,
)
from reminders.admin import ReminderInline, ReminderRuleInline
from reminders.models import Reminder
from reminders.services import reminder_rules_apply, reminders_resend
from screening.admin import ANSWERS_PERMISSION
from staff.audit import record_access
from staff.mixins import ClinicalRecordAdmin, clinic_time
from telemed.people import PHONE_PUNCTUATION
from treatment.measurements import measurement_add
from treatment.score_forms import ClinicianScoreForm


class WorkingHoursInline(admin.TabularInline):
    model = WorkingHours
    extra = 1


class TimeOffInline(admin.TabularInline):
    model = TimeOff
    extra = 0


@admin.register(Clinician)
class ClinicianAdmin(admin.ModelAdmin):
    list_display = ["name", "credentials", "active", "shown_on_site", "site_order"]
    list_filter = ["active", "shown_on_site", "appointment_types"]
    search_fields = ["name"]
    filter_horizontal = ["appointment_types"]
    inlines = [WorkingHoursInline, TimeOffInline]

    def get_readonly_fields(self, request, obj=None):
        if request.user.has_perm("booking.add_clinician"):
            return self.readonly_fields
        # The front desk keeps the schedule (hours, time off, taking bookings); who the clinician is, and
        # what the public site says about them, managers.
        return ["name", "credentials", "email", "appointment_types", "bio", "shown_on_site", "site_order"]

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "bio":  # a few sentences: a text area, still capped at the field's length
            kwargs["widget"] = forms.Textarea(attrs={"rows": 4, "maxlength": db_field.max_length})
        return super().formfield_for_dbfield(db_field, request, **kwargs)


@admin.register(AppointmentType)
class AppointmentTypeAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "mode",
        "duration_minutes",
        "recovery_minutes",
        "requires_screening",
        "needs_approval",
        "active",
        "order",
    ]
    list_editable = ["active", "order"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [ReminderRuleInline]

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        if change:  # visits already booked follow the edited rules (and durations)
            reminder_rules_apply(appointment_type=form.instance)


class DetailsDifferFilter(admin.SimpleListFilter):
    title = _("details differ from the record")
    parameter_name = "differ"

    def lookups(self, request, model_admin):
        return [("yes", _("Yes: check with the patient")), ("no", _("No"))]

    def queryset(self, request, queryset):
        if self.value() in ("yes", "no"):
            return queryset.filter(details_differ_from__isnull=self.value() == "no")
        return queryset


# A search term longer than any searched field, or with a NUL (PostgreSQL refuses one in a
# query; no stored value holds one), matches nobody.
SEARCH_TERM_LIMIT = 254
SEARCH_DATE_FORMATS = ("%Y-%m-%d", "%m/%d/%Y")  # as the screening asks for a date of birth
PHONE_SEARCH_MIN_DIGITS = 3


def typed_date(term: str) -> date | None:
    """A date typed as YYYY-MM-DD or MM/DD/YYYY, or None."""
    for pattern in SEARCH_DATE_FORMATS:
        try:
            return datetime.strptime(term, pattern).date()  # noqa: DTZ007 - a calendar date, no time
        except ValueError:
            continue
    return None


def typed_phone_digits(term: str) -> str:
    """The digits of a term made only of a phone number's characters (digits, spaces, brackets,
    dots, dashes, a leading +), the last 10 of a longer one (a US number with or without its 1);
    "" for any other term."""
    digits = PHONE_PUNCTUATION.sub("", term).removeprefix("+")
    if len(digits) < PHONE_SEARCH_MIN_DIGITS or not (digits.isascii() and digits.isdigit()):
        return ""
    return digits[-10:]


def phone_digits(field: str):
    """The stored phone number without the punctuation people type in it, as an expression."""
    expression: models.F | Replace = models.F(field)
    for char in " ().-+":
        expression = Replace(expression, Value(char), Value(""))
    return expression


NO_NUL_IN_NOTE = ProhibitNullCharactersValidator(
    message=_(
        "The note holds a hidden character (a NUL) that cannot be stored, often left by copying from "
        "another program. Type that part again, or paste the text as plain text."
    )
)


class PatientNoteForm(forms.Form):
    text = forms.CharField(
        label=_("Note"),
        max_length=PatientNote._meta.get_field("text").max_length,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("Dated and signed with your name; a note cannot be changed once added."),
        error_messages={
            "required": _("Write the note before adding it."),
            "max_length": _(
                "A note can be at most %(limit_value)d characters; this one has %(show_value)d. "
                "Shorten it, or add it as two notes."
            ),
        },
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        text = self.fields["text"]
        text.validators = [
            validator if not isinstance(validator, ProhibitNullCharactersValidator) else NO_NUL_IN_NOTE
            for validator in text.validators
        ]


class RemsEnrollmentForm(forms.Form):
    enrolled_on = forms.DateField(
        label=_("Enrollment date"),
        input_formats=["%Y-%m-%d"],
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("The day the patient's SPRAVATO REMS Patient Enrollment Form was signed, as YYYY-MM-DD."),
        error_messages={
            "required": _("Enter the enrollment date."),
            "invalid": _("Enter the date as YYYY-MM-DD, for example 2026-12-01."),
        },
    )


class PatientChangeList(ChangeList):
    def url_for_result(self, result):
        """A row opens the patient's record page (the change page edits contact details); a
        chooser pop-up keeps Django's own link, which picks the row."""
        if self.is_popup:
            return super().url_for_result(result)
        return reverse("admin:booking_patient_record", args=[result.pk], current_app=self.model_admin.admin_site.name)


@admin.register(Patient)
class PatientAdmin(ClinicalRecordAdmin):
    list_display = ["__str__", "full_name", "email", "phone", "date_of_birth", "details_differ", "edit_link"]
    list_filter = [DetailsDifferFilter]
    search_fields = ["full_name", "email", "phone"]
    search_help_text = _("Name, e-mail, phone (digits are enough) or date of birth (YYYY-MM-DD or MM/DD/YYYY).")
    # The booking link's token is never shown: whoever holds it can act as the patient.
    readonly_fields = [
        "details_differ_from",
        "anonymised_at",
        "created_at",
        # Recorded by a clinician on the record page (rems_enrollment_view), never typed here.
        "rems_enrolled_on",
        "rems_recorded_by",
        "rems_recorded_at",
    ]

    @admin.display(description=_("details differ from the record"), ordering="details_differ_from")
    def details_differ(self, obj) -> str:
        """Somebody booked with this record's e-mail but other details: staff check with the patient."""
        return _("Patient #%(id)s") % {"id": obj.details_differ_from_id} if obj.details_differ_from_id else ""

    @admin.display(description=_("contact details"))
    def edit_link(self, obj):
        url = reverse("admin:booking_patient_change", args=[obj.pk], current_app=self.admin_site.name)
        label = _("Edit contact details of patient #%(id)s") % {"id": obj.pk}
        return format_html('<a href="{}" aria-label="{}">{}</a>', url, label, _("Edit"))

    def access_shown(self, request, obj) -> str:
        return "patient record"

    def get_changelist(self, request, **kwargs):
        return PatientChangeList

    def get_search_results(self, request, queryset, search_term):
        """Name, e-mail and phone as Django searches them; a date matches the date of birth
        exactly; a phone number's digits match however the number was punctuated."""
        term = search_term.strip()
        if not term:
            return super().get_search_results(request, queryset, term)
        if len(term) > SEARCH_TERM_LIMIT or "\x00" in term:
            return queryset.none(), False
        if (born := typed_date(term)) is not None:
            return queryset.filter(date_of_birth=born), False
        results, may_have_duplicates = super().get_search_results(request, queryset, term)
        if digits := typed_phone_digits(term):
            results |= queryset.alias(phone_digits=phone_digits("phone")).filter(phone_digits__contains=digits)
        return results, may_have_duplicates

    def get_urls(self):
        return [
            path(
                "<int:object_id>/record/",
                self.admin_site.admin_view(self.record_view),
                name="booking_patient_record",
            ),
            path(
                "<int:object_id>/record/notes/",
                self.admin_site.admin_view(self.note_add_view),
                name="booking_patient_record_notes",
            ),
            path(
                "<int:object_id>/record/scores/",
                self.admin_site.admin_view(self.score_add_view),
                name="booking_patient_record_scores",
            ),
            path(
                "<int:object_id>/record/rems/",
                self.admin_site.admin_view(self.rems_enrollment_view),
                name="booking_patient_record_rems",
            ),
            *super().get_urls(),
        ]

    def record_view(self, request, object_id: int):
        """The patient's page: contact details, screenings, visits, plans and staff notes."""
        return self._record_page(request, self._record_patient(request, object_id), PatientNoteForm())

    def note_add_view(self, request, object_id: int):
        patient = self._record_patient(request, object_id)
        if request.method != "POST":
            return redirect("admin:booking_patient_record", patient.pk)
        if not request.user.has_perm("booking.add_patientnote"):
            raise PermissionDenied
        form = PatientNoteForm(request.POST)
        if not form.is_valid():
            return self._record_page(request, patient, form)
        patient_note_add(patient=patient, author=request.user, text=form.cleaned_data["text"])
        self.message_user(request, _("Note added."), messages.SUCCESS)
        return redirect(reverse("admin:booking_patient_record", args=[patient.pk]) + "#notes")

    def rems_enrollment_view(self, request, object_id: int):
        """A clinician records the day the patient was enrolled in the SPRAVATO REMS."""
        patient = self._record_patient(request, object_id)
        if request.method != "POST":
            return redirect(reverse("admin:booking_patient_record", args=[patient.pk]) + "#rems")
        if not request.user.has_perm("booking.record_rems_enrollment"):
            raise PermissionDenied
        form = RemsEnrollmentForm(request.POST)
        if form.is_valid():
            try:
                rems_enrollment_record(patient=patient, enrolled_on=form.cleaned_data["enrolled_on"], by=request.user)
            except ValidationError as refused:
                form.add_error(None, refused)
            else:
                self.message_user(request, _("REMS enrollment recorded."), messages.SUCCESS)
                return redirect(reverse("admin:booking_patient_record", args=[patient.pk]) + "#rems")
        return self._record_page(request, patient, PatientNoteForm(), rems_form=form)

    def score_add_view(self, request, object_id: int):
        """A clinician enters a PHQ-9 or GAD-7 total taken elsewhere (paper, phone): a point of the trend."""
        patient = self._record_patient(request, object_id)
        if request.method != "POST":
            return redirect(reverse("admin:booking_patient_record", args=[patient.pk]) + "#scores")
        if not request.user.has_perm("treatment.add_measurement"):
            raise PermissionDenied
        form = ClinicianScoreForm(request.POST)
        if form.is_valid():
            try:
                measurement_add(
                    patient=patient,
                    instrument=form.cleaned_data["instrument"],
                    score=form.cleaned_data["score"],
                    taken_at=form.taken_at(),
                    by=request.user,
                )
            except ValidationError as refused:
                form.add_error(None, refused)
            else:
                self.message_user(request, _("Score added."), messages.SUCCESS)
                return redirect(reverse("admin:booking_patient_record", args=[patient.pk]) + "#scores")
        return self._record_page(request, patient, PatientNoteForm(), score_form=form)

    def _record_patient(self, request, object_id: int) -> Patient:
        if not request.user.has_perm("booking.view_patient"):
            raise PermissionDenied
        patient = record_patient(object_id)
        if patient is None:
            raise Http404
        return patient

    def _record_page(
        self,
        request,
        patient: Patient,
        form: PatientNoteForm,
        rems_form: "RemsEnrollmentForm | None" = None,
        score_form: ClinicianScoreForm | None = None,
    ) -> TemplateResponse:
        with_scores = request.user.has_perm(ANSWERS_PERMISSION)
        with_trend = request.user.has_perm("treatment.view_measurement")  # never the front desk
        record = patient_record(patient=patient, with_scores=with_scores, now=timezone.now(), with_trend=with_trend)
        # Screening scores, and the trend of scores (those of the screenings and of check-ins).
        shown = "with screening scores" if with_scores else "with scores" if with_trend else ""
        record_access(patient, shown=f"patient record {shown}".strip())
        context = {
            **self.admin_site.each_context(request),
            "title": _("Record of patient #%(id)s") % {"id": patient.pk},
            "opts": self.opts,
            "record": record,
            "patient": patient,
            "clinical_shown": with_scores,  # screening scores and plan notes
            "notes_shown": request.user.has_perm("booking.view_patientnote"),
            "can_add_note": request.user.has_perm("booking.add_patientnote"),
            "can_change_patient": self.has_change_permission(request, patient),
            "form": form,
            "can_record_rems": request.user.has_perm("booking.record_rems_enrollment"),
            "rems_form": rems_form or RemsEnrollmentForm(initial={"enrolled_on": patient.rems_enrolled_on}),
            "clinic_time_zone": settings.CLINIC_TIME_ZONE,
            "trend_shown": with_trend,
            "can_add_score": with_trend and request.user.has_perm("treatment.add_measurement"),
            "score_form": score_form or ClinicianScoreForm(initial={"taken_on": timezone.localdate()}),
        }
        return TemplateResponse(request, "admin/booking/patient/record.html", context)


class AppointmentAdminForm(forms.ModelForm):
    """Staff edits, checked before saving: a real time zone, no overlap with another visit, and a
    time outside the clinician's open slots only once staff say so (nothing saved or e-mailed before)."""

    # Shown (and needed) only when the time is outside working hours, in time off or over a buffer.
    outside_hours_confirmed = forms.BooleanField(
        label=_("Yes, book outside hours"), required=False, widget=forms.HiddenInput
    )

    class Meta:
        model = Appointment
        fields = [
            "patient",
            "clinician",
            "appointment_type",
            "start",
            "status",
            "time_zone",
            "screening",
            "cancel_reason",
        ]

    def clean_time_zone(self):
        name = self.cleaned_data["time_zone"]
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise forms.ValidationError(_("Not a time zone: use a name such as America/New_York.")) from None
        return name

    def clean(self):
        cleaned = super().clean()
        kind, start, clinician = (cleaned.get(f) for f in ("appointment_type", "start", "clinician"))
        status = cleaned.get("status")
        placed = self.instance.pk is None or {"start", "appointment_type", "clinician", "status"} & set(
            self.changed_data
        )
        patient = cleaned.get("patient")
        if charted_change_refused(visit=self.instance, changed=set(self.changed_data)):
            raise forms.ValidationError(CHARTED_REFUSAL)
        booked = self.instance.pk is None or {"patient", "appointment_type", "start", "status"} & set(self.changed_data)
        if (
            kind
            and patient
            and status == Appointment.Status.CONFIRMED
            and booked
            and rems_unenrolled(patient=patient, appointment_type=kind)
        ):
            self.add_error("patient", REMS_STAFF_REFUSAL)
        if kind and start and clinician and status != Appointment.Status.CANCELLED and placed:
            placement = visit_placement(
                appointment_type=kind, clinician_id=clinician.pk, start=start, ignore_appointment_id=self.instance.pk
            )
            if placement.clash:
                raise forms.ValidationError(
                    _("This overlaps another visit of the same clinician (including buffers and recovery).")
                )
            if placement.problems and not cleaned.get("outside_hours_confirmed"):
                self.fields["outside_hours_confirmed"].widget = forms.CheckboxInput()
                self.add_error(
                    "outside_hours_confirmed",
                    _("This time is %(reasons)s. To book it anyway, tick “Yes, book outside hours”.")
                    % {"reasons": ", ".join(str(reason) for reason in placement_reasons(placement))},
                )
        return cleaned


class StaffCancelForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Kept with the visit for the clinic. The patient is e-mailed that the visit is cancelled."),
        error_messages={"required": _("Please give the reason for the cancellation.")},
    )


@admin.register(Appointment)
class AppointmentAdmin(ClinicalRecordAdmin):
    list_display = ["__str__", "local_start", "patient_name", "appointment_type", "clinician", "status", "ride_home"]
    list_filter = ["status", "appointment_type", "clinician", ("start", admin.DateFieldListFilter)]
    search_fields = ["patient__full_name", "patient__email", "patient__phone"]
    date_hierarchy = "start"
    list_select_related = ["patient", "appointment_type", "clinician"]
    readonly_fields = [
        "end",
        "blocked_start",
        "blocked_end",
        "video_link",
        "ride_confirmed_at",
        "created_at",
        "updated_at",
        "cancelled_at",
    ]
    raw_id_fields = ["patient", "screening"]
    inlines = [ReminderInline]
    actions = ["cancel_visits", "mark_completed", "mark_no_show", "confirm_ride_home", "resend_reminders"]

    form = AppointmentAdminForm

    def get_fields(self, request, obj=None):
        """The outside-hours confirmation right after the time it confirms."""
        fields = [name for name in super().get_fields(request, obj) if name != "outside_hours_confirmed"]
        at = fields.index("start") + 1 if "start" in fields else len(fields)
        return [*fields[:at], "outside_hours_confirmed", *fields[at:]]

    def save_model(self, request, obj, form, change):
        appointment_staff_save(appointment=obj, changed=frozenset(form.changed_data) if change else None)

    @admin.action(description=_("Mark selected visits completed"), permissions=["change"])
    def mark_completed(self, request, queryset):
        visits = list(queryset.order_by("start"))
        count = appointments_complete(appointments=visits, by=request.user)
        _report_marked(self, request, count, len(visits), _("%(count)d visit(s) marked completed."))

    @admin.action(description=_("Mark selected visits no-show"), permissions=["change"])
    def mark_no_show(self, request, queryset):
        visits = list(queryset.order_by("start"))
        count = appointments_no_show(appointments=visits, by=request.user)
        _report_marked(self, request, count, len(visits), _("%(count)d visit(s) marked no-show."))

    @admin.display(description=_("start (clinic time)"), ordering="start")
    def local_start(self, obj):
        return clinic_time(obj.start)

    @admin.display(description=_("video room"))
    def video_link(self, obj):
        """Where the clinician joins a video visit: the visit's own room (the patient's manage
        token, which would let staff act as the patient, is never shown)."""
        url = obj.video_url if obj.pk else ""
        return format_html('<a href="{}" rel="noreferrer">{}</a>', url, url) if url else "—"

    @admin.display(description=_("ride home"), ordering="ride_confirmed_at")
    def ride_home(self, obj):
        if not obj.appointment_type.ride_home_required:
            return ""
        return _("confirmed") if obj.ride_confirmed_at else _("not yet")

    @admin.action(description=_("Cancel the selected visits (the patients are told)"), permissions=["change"])
    def cancel_visits(self, request, queryset):
        """A page asking for the reason first; the visits are cancelled as when patients cancel
        (e-mail, calendar, reminders), inside the online cut-off too, and the change is the staff member's."""
        visits = list(queryset.filter(status=Appointment.Status.CONFIRMED).select_related("appointment_type"))
        form = StaffCancelForm(request.POST if "confirm" in request.POST else None)
        if not form.is_valid():
            context = {
                **self.admin_site.each_context(request),
                "title": _("Cancel visits"),
                "opts": self.model._meta,
                "visits": [(visit, clinic_time(visit.start)) for visit in visits],
                "form": form,
                "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            }
            return TemplateResponse(request, "admin/booking/appointment/cancel_visits.html", context)
        kept = []
        for visit in visits:
            try:
                appointment_cancel(appointment=visit, reason=form.cleaned_data["reason"], by_staff=True)
            except VisitActionRefused:  # charted: its session has begun
                kept.append(visit)
        self.message_user(
            request,
            _("%(count)d visit(s) cancelled; the patients are being told.") % {"count": len(visits) - len(kept)},
        )
        if kept:
            self.message_user(
                request,
                _("%(count)d visit(s) kept: %(why)s") % {"count": len(kept), "why": CHARTED_REFUSAL},
                messages.WARNING,
            )
        return None

    @admin.action(description=_("Ride home arranged (the patient told us)"), permissions=["change"])
    def confirm_ride_home(self, request, queryset):
        count = sum(ride_home_confirm(appointment=visit) for visit in queryset.select_related("appointment_type"))
        self.message_user(request, _("%(count)d ride(s) home recorded as arranged.") % {"count": count})

    @admin.action(description=_("Send the latest reminder of the selected appointments again"), permissions=["change"])
    def resend_reminders(self, request, queryset):
        now = timezone.now()
        latest = {}
        for reminder in Reminder.objects.filter(appointment__in=queryset, due_at__lte=now).order_by("due_at"):
            latest[reminder.appointment_id] = reminder.pk
        count = reminders_resend(reminder_ids=list(latest.values()), now=now)
        self.message_user(request, _("%(count)d reminder(s) will be sent within a minute.") % {"count": count})

    @admin.display(description=_("patient"), ordering="patient__full_name")
    def patient_name(self, obj):
        return obj.patient.full_name


def _report_marked(model_admin, request, count: int, selected: int, done) -> None:
    """What a bulk mark did, in words: how many changed, and how many were left as they were."""
    model_admin.message_user(request, done % {"count": count}, messages.SUCCESS)
    if selected > count:
        model_admin.message_user(
            request,
            _("%(count)d visit(s) left as they were: not started yet, cancelled, or marked already.")
            % {"count": selected - count},
            messages.WARNING,
        )


class PlanStateFilter(admin.SimpleListFilter):
    title = _("state")
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return (("open", _("Open")), ("ended", _("Ended")))

    def queryset(self, request, queryset):
        if self.value() in ("open", "ended"):
            return queryset.filter(ended_at__isnull=self.value() == "open")
        return queryset


PLAN_FIELDS = (
    "patient_link", "appointment_type", "sessions", "sessions_left", "spacing", "note", "screening_link",
    "approved_by", "approved", "emailed", "ended", "ended_reason",
)  # fmt: skip


class PlanEndForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Kept with the plan, for the clinic. The patient is not e-mailed."),
        error_messages={"required": _("Please give the reason for ending the plans.")},
    )


@admin.register(TreatmentPlan)
class TreatmentPlanAdmin(ClinicalRecordAdmin):
    """Plans are approved by a screening's review only (the review queue); here they are read, and
    ended early with a reason. Sessions left are counted in the list's one query (plans_with_use)."""

    list_display = [
        "__str__",
        "patient_link",
        "appointment_type",
        "sessions",
        "sessions_left",
        "spacing",
        "approved_by",
        "approved",
        "emailed",
        "ended",
    ]
    list_filter = ["appointment_type", PlanStateFilter]
    list_select_related = ["patient", "appointment_type", "approved_by"]
    search_fields = ["patient__full_name", "patient__email"]
    actions = ["end_plans"]
    fields = readonly_fields = PLAN_FIELDS

    def get_queryset(self, request):
        return plans_with_use(super().get_queryset(request))

    def has_add_permission(self, request):
        return False  # a plan is approved by reviewing a screening (admin:screening_screening_review_queue)

    def has_change_permission(self, request, obj=None):
        # Nothing of a plan is edited on its page; "change" is ending plans, the list's action.
        return obj is None and super().has_change_permission(request)

    def access_shown(self, request, obj) -> str:
        return "treatment plan"

    @admin.display(description=_("patient"), ordering="patient__full_name")
    def patient_link(self, obj):
        url = reverse("admin:booking_patient_change", args=[obj.patient_id])
        return format_html('<a href="{}">{}</a>', url, obj.patient.full_name or obj.patient)

    @admin.display(description=_("sessions left"))
    def sessions_left(self, obj) -> int:
        return plan_sessions_left(obj)

    @admin.display(description=_("spacing"), ordering="min_hours_between")
    def spacing(self, obj):
        return _("at least %(hours)d h") % {"hours": obj.min_hours_between} if obj.min_hours_between else "—"

    @admin.display(description=_("approved"), ordering="approved_at")
    def approved(self, obj) -> str:
        return clinic_time(obj.approved_at)

    @admin.display(description=_("booking link e-mailed"), ordering="emailed_at")
    def emailed(self, obj):
        return clinic_time(obj.emailed_at) if obj.emailed_at else _("not yet")

    @admin.display(description=_("ended"), ordering="ended_at")
    def ended(self, obj) -> str:
        return clinic_time(obj.ended_at) if obj.ended_at else "—"

    @admin.display(description=_("screening"))
    def screening_link(self, obj):
        if obj.screening_id is None:
            return "—"
        url = reverse("admin:screening_screening_change", args=[obj.screening_id])
        return format_html('<a href="{}">{}</a>', url, obj.screening)

    @admin.action(description=_("End the selected plans"), permissions=["change"])
    def end_plans(self, request, queryset):
        """A page asking for the reason first; no more sessions are booked within the plans."""
        plans = list(queryset.filter(ended_at__isnull=True))
        form = PlanEndForm(request.POST if "confirm" in request.POST else None)
        if not form.is_valid():
            context = {
                **self.admin_site.each_context(request),
                "title": _("End treatment plans"),
                "opts": self.model._meta,
                "plans": [(plan, plan_sessions_left(plan)) for plan in plans],
                "form": form,
                "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            }
            return TemplateResponse(request, "admin/booking/treatmentplan/end_plans.html", context)
        for plan in plans:
            treatment_plan_end(plan=plan, reason=form.cleaned_data["reason"])
        self.message_user(request, _("%(count)d plan(s) ended.") % {"count": len(plans)}, messages.SUCCESS)
        return None
