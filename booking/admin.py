from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib import admin, messages
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from booking.models import Appointment, AppointmentType, Clinician, Patient, TimeOff, WorkingHours
from booking.services import patients_approve_for_treatment


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


@admin.register(AppointmentType)
class AppointmentTypeAdmin(admin.ModelAdmin):
    list_display = ["name", "mode", "duration_minutes", "recovery_minutes", "needs_approval", "active", "order"]
    list_editable = ["active", "order"]
    prepopulated_fields = {"slug": ["name"]}


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


@admin.register(Appointment)
class AppointmentAdmin(admin.ModelAdmin):
    list_display = ["__str__", "local_start", "patient_name", "appointment_type", "clinician", "status"]
    list_filter = ["status", "appointment_type", "clinician", ("start", admin.DateFieldListFilter)]
    search_fields = ["patient__full_name", "patient__email", "patient__phone"]
    date_hierarchy = "start"
    list_select_related = ["patient", "appointment_type", "clinician"]
    readonly_fields = ["blocked_start", "blocked_end", "token", "created_at", "updated_at", "cancelled_at"]
    raw_id_fields = ["patient", "screening"]

    @admin.display(description=_("start (clinic time)"), ordering="start")
    def local_start(self, obj):
        return timezone.localtime(obj.start, ZoneInfo(settings.CLINIC_TIME_ZONE)).strftime("%a %b %d %Y, %I:%M %p %Z")

    @admin.display(description=_("patient"), ordering="patient__full_name")
    def patient_name(self, obj):
        return obj.patient.full_name
