from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django import forms
from django.contrib import admin, messages
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from booking.models import (
    Appointment,
    AppointmentType,
    Clinician,
    Patient,
    TimeOff,
    WorkingHours,
)
from booking.services import (
    appointment_cancel,
    appointment_staff_save,
    patients_approve_for_treatment,
    ride_home_confirm,
    visit_times,
)
from reminders.admin import ReminderInline, ReminderRuleInline
from reminders.models import Reminder
from reminders.services import reminder_rules_apply, reminders_resend
from staff.mixins import ClinicalRecordAdmin, clinic_time


class WorkingHoursInline(admin.TabularInline):
    model = WorkingHours
    extra = 1


class TimeOffInline(admin.TabularInline):
    model = TimeOff
    extra = 0


@admin.register(Clinician)
class ClinicianAdmin(admin.ModelAdmin):
    list_display = ["name", "credentials", "active"]
    list_filter = ["active", "appointment_types"]
    search_fields = ["name"]
    filter_horizontal = ["appointment_types"]
    inlines = [WorkingHoursInline, TimeOffInline]

    def get_readonly_fields(self, request, obj=None):
        if request.user.has_perm("booking.add_clinician"):
            return self.readonly_fields
        # The front desk keeps the schedule (hours, time off, taking bookings); who the clinician is, managers.
        return ["name", "credentials", "email", "appointment_types"]


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


@admin.register(Patient)
class PatientAdmin(ClinicalRecordAdmin):
    list_display = ["__str__", "full_name", "email", "details_differ", "approved_for_treatment_at"]
    list_filter = [DetailsDifferFilter]
    search_fields = ["full_name", "email", "phone"]
    # The booking link's token is never shown: whoever holds it can act as the patient.
    readonly_fields = [
        "details_differ_from",
        "approved_for_treatment_at",
        "approved_by",
        "approval_emailed_at",
        "anonymised_at",
        "created_at",
    ]
    actions = ["approve_for_treatment"]

    @admin.display(description=_("details differ from the record"), ordering="details_differ_from")
    def details_differ(self, obj) -> str:
        """Somebody booked with this record's e-mail but other details: staff check with the patient."""
        return _("Patient #%(id)s") % {"id": obj.details_differ_from_id} if obj.details_differ_from_id else ""

    def access_shown(self, request, obj) -> str:
        return "patient record"

    def has_approve_permission(self, request) -> bool:
        return request.user.has_perm("booking.approve_treatment")

    @admin.action(description=_("Approve selected patients for treatment sessions"), permissions=["approve"])
    def approve_for_treatment(self, request, queryset):
        count = patients_approve_for_treatment(patients=queryset, user=request.user)
        self.message_user(
            request,
            _("%(count)d patient(s) approved and e-mailed a booking link.") % {"count": count},
            messages.SUCCESS,
        )


class AppointmentAdminForm(forms.ModelForm):
    """Staff edits, checked before saving: a real time zone, and no overlap with another visit."""

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
        if kind and start and clinician and status != Appointment.Status.CANCELLED:
            _end, held_from, held_until = visit_times(kind, start)
            clash = (
                Appointment.objects.active()
                .filter(clinician=clinician, blocked_start__lt=held_until, blocked_end__gt=held_from)
                .exclude(pk=self.instance.pk)
                .first()
            )
            if clash:
                raise forms.ValidationError(
                    _("This overlaps %(other)s of the same clinician (including buffers and recovery).")
                    % {"other": clash}
                )
        return cleaned


class StaffCancelForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Kept with the visit for the clinic. The patient is e-mailed that the visit is cancelled."),
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
    actions = ["cancel_visits", "confirm_ride_home", "resend_reminders"]

    form = AppointmentAdminForm

    def save_model(self, request, obj, form, change):
        appointment_staff_save(appointment=obj, changed=frozenset(form.changed_data) if change else None)

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
        for visit in visits:
            appointment_cancel(appointment=visit, reason=form.cleaned_data["reason"], by_staff=True)
        self.message_user(
            request, _("%(count)d visit(s) cancelled; the patients are being told.") % {"count": len(visits)}
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
