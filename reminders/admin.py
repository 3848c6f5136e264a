from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from reminders.models import Reminder, ReminderRule
from reminders.services import reminders_resend
from staff.mixins import ClinicalRecordAdmin, clinic_time


class ReminderRuleInline(admin.TabularInline):
    model = ReminderRule
    extra = 0


class ReminderInline(admin.TabularInline):
    model = Reminder
    extra = 0
    can_delete = False
    fields = ("kind", "due", "status", "attempts", "sent", "last_error")
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
class ReminderAdmin(ClinicalRecordAdmin):
    list_display = ["__str__", "kind", "due", "status", "attempts", "last_error"]
    list_filter = ["status", "kind"]
    list_select_related = ["appointment"]
    search_fields = ["appointment__patient__full_name", "appointment__patient__email"]
    readonly_fields = ["appointment", "kind", "due_at", "for_start", "status", "attempts", "sent_at", "last_error"]
    date_hierarchy = "due_at"
    actions = ["resend"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False  # rows change only through the services, never by a form saving a stale copy

    def has_resend_permission(self, request) -> bool:
        return request.user.has_perm("reminders.change_reminder")

    @admin.display(description=_("due (clinic time)"), ordering="due_at")
    def due(self, obj):
        return clinic_time(obj.due_at)

    @admin.action(description=_("Send the selected reminders again now"), permissions=["resend"])
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
