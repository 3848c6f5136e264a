"""Staff accounts, lockouts and the audit trail in the admin (managers)."""

from auditlog.admin import LogEntryAdmin
from auditlog.models import LogEntry
from axes.admin import AccessAttemptAdmin, AccessFailureLogAdmin, AccessLogAdmin
from axes.handlers.proxy import AxesProxyHandler
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from staff.audit import record_change
from staff.services import second_factor_reset

User = get_user_model()

# Devices are managed through the user's page (reset), never shown: a TOTP secret is a password.
for model in (TOTPDevice, StaticDevice, User, LogEntry, AccessAttempt, AccessLog, AccessFailureLog):
    if admin.site.is_registered(model):
        admin.site.unregister(model)


@admin.register(User)
class StaffUserAdmin(UserAdmin):
    list_display = ["username", "first_name", "last_name", "email", "roles", "is_active", "last_login"]
    list_filter = ["is_active", "groups"]
    actions = ["reset_second_factor"]

    def get_queryset(self, request):
        queryset = super().get_queryset(request).prefetch_related("groups")
        # A manager is not a superuser and cannot take over one's account.
        return queryset if request.user.is_superuser else queryset.filter(is_superuser=False)

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if request.user.is_superuser or obj is None:
            return fieldsets
        # Managers give roles (groups); single permissions and superuser status are not theirs to give.
        return [
            (
                name,
                {**options, "fields": [f for f in options["fields"] if f not in ("is_superuser", "user_permissions")]},
            )
            for name, options in fieldsets
        ]

    @admin.display(description=_("roles"))
    def roles(self, obj):
        return ", ".join(group.name for group in obj.groups.all()) or "—"

    @admin.action(
        description=_("Reset two-factor sign-in (a new authenticator app at next sign-in)"), permissions=["change"]
    )
    def reset_second_factor(self, request, queryset):
        count = second_factor_reset(users=list(queryset))
        self.message_user(
            request,
            _("%(count)d colleague(s) will set up their authenticator app again at their next sign-in.")
            % {"count": count},
            messages.SUCCESS,
        )


@admin.register(LogEntry)
class AuditEntryAdmin(LogEntryAdmin):
    """Read-only for everyone, superusers included; entries go only by the retention purge."""

    list_filter = ["action", "content_type", ("timestamp", admin.DateFieldListFilter), "actor"]
    list_display = ["created", "resource_url", "action", "msg_short", "user_url", "remote_addr"]
    actions = None

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AccessAttempt)
class LockoutAdmin(AccessAttemptAdmin):
    """Failed sign-ins; "Unlock" lets a locked-out colleague try again before the 15 minutes."""

    actions = ["unlock"]

    @admin.action(description=_("Unlock the selected usernames"), permissions=["delete"])
    def unlock(self, request, queryset):
        usernames = sorted(set(queryset.values_list("username", flat=True)))
        for attempt in queryset:  # the trail keeps who unlocked whom; the attempts themselves go
            record_change(attempt, {"locked out": ["yes", "unlocked"]})
        for username in usernames:
            AxesProxyHandler.reset_attempts(username=username)
        self.message_user(request, _("%(count)d username(s) unlocked.") % {"count": len(usernames)}, messages.SUCCESS)


class _SignInRecordAdmin:
    """Sign-ins and failed sign-ins, as django-axes records them: read only, kept, never deleted."""

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(AccessLog)
class SignInLogAdmin(_SignInRecordAdmin, AccessLogAdmin):
    pass


@admin.register(AccessFailureLog)
class FailedSignInLogAdmin(_SignInRecordAdmin, AccessFailureLogAdmin):
    pass
