"""The session charts in the admin's index: a list to find a chart by day, type and state; each row
opens the chart screen (treatment/chart_views.py), the one place a chart is read and changed.
Nothing is added, edited or deleted here."""

from django.contrib import admin
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from staff.mixins import ClinicalRecordAdmin, clinic_time
from telemed.converters import whole_number
from treatment.models import SessionRecord


class ChartStateFilter(admin.SimpleListFilter):
    title = _("state")
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("open", _("Open")), ("discharged", _("Discharged, not signed")), ("signed", _("Signed"))]

    def queryset(self, request, queryset):
        if self.value() == "open":
            return queryset.filter(discharged_at__isnull=True)
        if self.value() == "discharged":
            return queryset.filter(discharged_at__isnull=False, signed_at__isnull=True)
        if self.value() == "signed":
            return queryset.filter(signed_at__isnull=False)
        return queryset


@admin.register(SessionRecord)
class SessionRecordAdmin(ClinicalRecordAdmin):
    list_display = ["visit_time", "treatment", "patient", "state"]
    list_filter = [ChartStateFilter, "appointment__appointment_type"]
    list_select_related = ["appointment__appointment_type", "appointment__patient"]
    date_hierarchy = "started_at"
    ordering = ["-started_at"]
    list_per_page = 50

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def list_access_shown(self, request) -> str:
        return "session chart state"

    @admin.display(description=_("visit"), ordering="appointment__start")
    def visit_time(self, record: SessionRecord) -> str:
        url = reverse("admin:treatment_chart", args=[record.appointment_id])
        return format_html('<a href="{}">{}</a>', url, clinic_time(record.appointment.start))

    @admin.display(description=_("treatment"))
    def treatment(self, record: SessionRecord) -> str:
        return record.appointment.appointment_type.name

    @admin.display(description=_("patient"))
    def patient(self, record: SessionRecord) -> str:
        return record.appointment.patient.full_name

    @admin.display(description=_("state"))
    def state(self, record: SessionRecord) -> str:
        if record.signed_at:
            return str(_("Signed"))
        if record.discharged_at:
            return str(_("Discharged, not signed"))
        return str(_("Open"))

    def change_view(self, request, object_id, form_url="", extra_context=None):
        """The chart screen is the chart's page (it checks the permission and records the access)."""
        if not self.has_view_permission(request):
            return super().change_view(request, object_id, form_url, extra_context)
        pk = whole_number(str(object_id))
        if pk is None:
            raise Http404
        record = get_object_or_404(SessionRecord, pk=pk)
        return HttpResponseRedirect(reverse("admin:treatment_chart", args=[record.appointment_id]))
