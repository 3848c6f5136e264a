from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib import admin, messages
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from booking.models import (
    Appointment,
    AppointmentType,
    Clinician,
    Patient,
    Reminder,
    ReminderRule,
    TimeOff,
    WorkingHours,
)
from booking.services import appointment_staff_save, patients_approve_for_treatment, reminders_resend


def clinic_time(value) -> str:
    if value is None:
        return "—"
    return timezone.localtime(value, ZoneInfo(settings.CLINIC_TIME_ZONE)).strftime("%a %b %d %Y, %I:%M %p %Z")


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


class ReminderRuleInline(admin.TabularInline):
    model = ReminderRule
    extra = 0


@admin.register(AppointmentType)
class AppointmentTypeAdmin(admin.ModelAdmin):
    list_display = ["name", "mode", "duration_minutes", "recovery_minutes", "needs_approval", "active", "order"]
    list_editable = ["active", "order"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [ReminderRuleInline]


@admin.register(Patient)
class PatientAdmin(admin.ModelAdmin):
    list_display = ["__str__", "full_name", "email", "approved_for_treatment_at"]
    search_fields = ["full_name", "email", "phone"]
    readonly_fields = ["approved_for_treatment_at", "approved_by", "booking_token", "created_at"]
    actions = ["approve_for_treatment"]

    @admin.action(description=_("Approve selected patients for treatment sessions"))
    def approve_for_treatment(self, request, queryset):
        count = patients_approve_for_treatment(patients=queryset, user=request.user)
        self.message_user(
            request,
            _("%(count)d patient(s) approved and e-mailed a booking link.") % {"count": count},
            messages.SUCCESS,
        )


class ReminderInline(admin.TabularInline):
    model = Reminder
    extra = 0
    can_delete = False
    fields = ["kind", "due", "status", "attempts", "sent", "last_error"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    @admin.display(description=_("due (clinic time)"))
    def due(self, obj):
        return clinic_time(obj.due_at)

    @admin.display(description=_("sent (clinic time)"))
    def sent(self, obj):
        return clinic_time(obj.sent_at)


@admin.register(Reminder)
class ReminderAdmin(admin.ModelAdmin):
    list_display = ["__str__", "kind", "due", "status", "attempts", "last_error"]
    list_filter = ["status", "kind"]
    list_select_related = ["appointment"]
    search_fields = ["appointment__patient__full_name", "appointment__patient__email"]
    readonly_fields = ["appointment", "kind", "due_at", "for_start", "status", "attempts", "sent_at", "last_error"]
    date_hierarchy = "due_at"
    actions = ["resend"]

    def has_add_permission(self, request):
        return False

    @admin.display(description=_("due (clinic time)"), ordering="due_at")
    def due(self, obj):
        return clinic_time(obj.due_at)

    @admin.action(description=_("Send the selected reminders again now"))
    def resend(self, request, queryset):
        count = reminders_resend(reminder_ids=list(queryset.values_list("pk", flat=True)))
        skipped = queryset.count() - count
        self.message_user(request, _("%(count)d reminder(s) will be sent within a minute.") % {"count": count})
        if skipped:
            self.message_user(
                request,
                _("%(count)d skipped: the visit is not confirmed, or the reminder is being sent right now.")
                % {"count": skipped},
                messages.WARNING,
            )


@admin.register(Appointment)
class AppointmentAdmin(admin.ModelAdmin):
    list_display = ["__str__", "local_start", "patient_name", "appointment_type", "clinician", "status", "ride_home"]
    list_filter = ["status", "appointment_type", "clinician", ("start", admin.DateFieldListFilter)]
    search_fields = ["patient__full_name", "patient__email", "patient__phone"]
    date_hierarchy = "start"
    list_select_related = ["patient", "appointment_type", "clinician"]
    readonly_fields = [
        "end",
        "blocked_start",
        "blocked_end",
        "token",
        "ride_confirmed_at",
        "created_at",
        "updated_at",
        "cancelled_at",
    ]
    raw_id_fields = ["patient", "screening"]
    inlines = [ReminderInline]
    actions = ["resend_reminders"]

    def save_model(self, request, obj, form, change):
        appointment_staff_save(appointment=obj)

    @admin.display(description=_("start (clinic time)"), ordering="start")
    def local_start(self, obj):
        return clinic_time(obj.start)

    @admin.display(description=_("ride home"), ordering="ride_confirmed_at")
    def ride_home(self, obj):
        if not obj.appointment_type.ride_home_required:
            return ""
        return _("confirmed") if obj.ride_confirmed_at else _("not yet")

    @admin.action(description=_("Send the latest reminder of the selected appointments again"))
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
