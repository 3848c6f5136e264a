"""The clinic's admin site: a password, then a second factor (TOTP or a backup code) when
OTP_REQUIRED, before any admin page."""

from django.conf import settings
from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.urls import path
from django.utils.translation import gettext_lazy as _

from staff import views
from staff.sessions import SIGNED_OUT_REASON
from telemed.limits import over_limit


class ClinicAdminSite(admin.AdminSite):
    site_header = _("Clinic staff")
    site_title = _("Clinic staff")
    index_title = _("Today's work")
    enable_nav_sidebar = False  # one column: on a tablet at the front desk, and for screen readers

    def has_permission(self, request: HttpRequest) -> bool:
        return super().has_permission(request) and views.second_factor_done(request)

    def each_context(self, request: HttpRequest) -> dict:
        context = super().each_context(request)
        context["site_header"] = f"{settings.CLINIC_NAME} — {self.site_header}"
        return context

    def login(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        if views.password_signed_in(request) and not views.second_factor_done(request):
            return views.redirect_to_second_factor(request)
        context = {
            **(extra_context or {}),
            "signed_out_reason": request.session.pop(SIGNED_OUT_REASON, ""),
            "idle_minutes": settings.STAFF_IDLE_TIMEOUT // 60,
            "max_hours": settings.STAFF_SESSION_MAX_HOURS,
        }
        if request.method == "POST" and over_limit(request, "sign-in"):
            return views.locked_out(request)  # many names tried from one address: axes counts per name
        response = super().login(request, context)
        if request.method == "POST" and views.password_signed_in(request) and not views.second_factor_done(request):
            return views.redirect_to_second_factor(request)
        return response

    def get_urls(self):
        from booking import staff_views as booking_staff  # imports models: not while apps load
        from booking import visit_views
        from treatment import chart_views, rems_views

        return [
            path("schedule/", self.admin_view(booking_staff.schedule_day), name="schedule_day"),
            path("schedule/week/", self.admin_view(booking_staff.schedule_week), name="schedule_week"),
            path("schedule/export/", self.admin_view(booking_staff.visits_export), name="visits_export"),
            path("schedule/visits/bulk/", self.admin_view(visit_views.visit_bulk), name="visit_bulk"),
            path("schedule/visits/<int:pk>/cancel/", self.admin_view(visit_views.visit_cancel), name="visit_cancel"),
            path("schedule/visits/<int:pk>/move/", self.admin_view(visit_views.visit_move), name="visit_move"),
            # The session chart (before visit_action, whose <str:action> would take "chart").
            path("schedule/visits/<int:pk>/chart/", self.admin_view(chart_views.chart_view), name="treatment_chart"),
            path(
                "schedule/visits/<int:pk>/chart/open/",
                self.admin_view(chart_views.chart_open),
                name="treatment_chart_open",
            ),
            path(
                "schedule/visits/<int:pk>/chart/<slug:section>/",
                self.admin_view(chart_views.chart_section),
                name="treatment_chart_section",
            ),
            path(
                "schedule/visits/<int:pk>/<str:action>/", self.admin_view(visit_views.visit_action), name="visit_action"
            ),
            path("rems-forms/", self.admin_view(rems_views.rems_forms), name="rems_forms"),
            path("rems-forms/csv/", self.admin_view(rems_views.rems_forms_csv), name="rems_forms_csv"),
            path("rems-forms/<int:pk>/", self.admin_view(rems_views.rems_form_print), name="rems_form_print"),
            path("rems-forms/<int:pk>/csv/", self.admin_view(rems_views.rems_form_csv), name="rems_form_csv"),
            path(
                "rems-forms/<int:pk>/submitted/", self.admin_view(rems_views.rems_form_submit), name="rems_form_submit"
            ),
            path("second-factor/", views.second_factor, name="second_factor"),
            path("second-factor/sign-out/", views.sign_out, name="second_factor_sign_out"),
            path("second-factor/enrol/", views.second_factor_enrol, name="second_factor_enrol"),
            path("second-factor/backup-codes/", self.admin_view(views.backup_codes_renew), name="backup_codes"),
            *super().get_urls(),
        ]
