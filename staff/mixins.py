from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib import admin
from django.utils import timezone

from staff.audit import record_access, record_list_access


class ClinicalRecordAdmin(admin.ModelAdmin):
    """A record staff never delete (a visit is cancelled, a record archived; only retention
    commands remove rows), and whose page, when it shows clinical data, is an audited access."""

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def lookup_allowed(self, lookup, value, request=None) -> bool:
        """Only the list's own filters and date drill-down. Django otherwise takes a filter on any
        field from the address (?answers__icontains=…, ?token__startswith=…), and the count of
        rows would tell staff what the page hides from them."""
        specs = self.get_list_filter(request) if request else self.list_filter
        allowed: set[str | None] = {_filter_field(spec) for spec in specs}
        allowed.add(self.date_hierarchy)
        return lookup.split("__", 1)[0] in allowed and super().lookup_allowed(lookup, value, request)

    def access_shown(self, request, obj) -> str:
        """What of the record the change page shows, for the access entry; "" for nothing audited."""
        return ""

    def list_access_shown(self, request) -> str:
        """What of each record the list shows, for an access entry per row; "" for nothing audited."""
        return ""

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        shown = self.list_access_shown(request)
        changelist = getattr(response, "context_data", None) and response.context_data.get("cl")
        if shown and changelist is not None:  # the rows the page will show, read once for both
            record_list_access(request, changelist.result_list, shown=shown)
        return response

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None and not add and (shown := self.access_shown(request, obj)):
            record_access(obj, shown=shown)
        return super().render_change_form(request, context, add=add, change=change, form_url=form_url, obj=obj)


def _filter_field(spec) -> str:
    """The field (or parameter) a list_filter entry filters on."""
    if isinstance(spec, str):
        return spec
    if isinstance(spec, tuple):
        return spec[0]
    return spec.parameter_name


def clinic_time(value) -> str:
    if value is None:
        return "—"
    return timezone.localtime(value, ZoneInfo(settings.CLINIC_TIME_ZONE)).strftime("%a %b %d %Y, %I:%M %p %Z")
