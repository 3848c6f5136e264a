from django.contrib import admin

from staff.audit import record_access


class ClinicalRecordAdmin(admin.ModelAdmin):
    """A record staff never delete (a visit is cancelled, a record archived; only retention
    commands remove rows), and whose page, when it shows clinical data, is an audited access."""

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def access_shown(self, request, obj) -> str:
        """What of the record the change page shows, for the access entry; "" for nothing audited."""
        return ""

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None and not add and (shown := self.access_shown(request, obj)):
            record_access(obj, shown=shown)
        return super().render_change_form(request, context, add=add, change=change, form_url=form_url, obj=obj)
