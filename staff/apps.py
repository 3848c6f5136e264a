from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.utils.translation import gettext_lazy as _


class ClinicAdminConfig(admin_apps.AdminConfig):
    """django.contrib.admin, whose site asks staff for a second factor (staff/sites.py)."""

    default = False
    default_site = "staff.sites.ClinicAdminSite"


class StaffConfig(AppConfig):
    default = True
    name = "staff"
    verbose_name = _("Staff access and audit")

    def ready(self) -> None:
        from staff import audit

        audit.register_models()
