"""The managers' REMS monitoring forms, inside the admin (staff/sites.py wraps each view in
admin_view): the list of signed esketamine sessions with each form's deadline, the print view of
one form, the CSV of one or of the listed forms, and "mark submitted".

Seeing a form needs treatment.view_sessionrecord; marking it submitted treatment.submit_rems_form.
Each view of form data is an access entry in the audit trail. No token and no patient data in any
address or message: ids only."""

import csv

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Page, Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from booking.staff_views import csv_cell
from booking.visit_views import back_url
from staff.audit import record_access, record_list_access
from staff.mixins import clinic_time
from treatment import rems
from treatment.models import SessionRecord

VIEW_PERMISSION = "treatment.view_sessionrecord"
SUBMIT_PERMISSION = "treatment.submit_rems_form"
PAGE_SIZE = 50
LISTS = {
    rems.Status.DUE: ("appointment__start", "pk"),  # the oldest session is the nearest deadline
    rems.Status.SUBMITTED: ("-rems_submitted_at", "-pk"),
}


def _require(request: HttpRequest, permission: str) -> None:
    if not request.user.has_perm(permission):
        raise PermissionDenied


def _listed(request: HttpRequest) -> tuple[str, Page]:
    """The list asked for (forms still due, the default, or those submitted) and its page."""
    shown = request.GET.get("status", "")
    shown = shown if shown in LISTS else rems.Status.DUE
    records = rems.rems_records().filter(rems_submitted_at__isnull=shown == rems.Status.DUE).order_by(*LISTS[shown])
    return shown, Paginator(records, PAGE_SIZE).get_page(request.GET.get("page"))


@require_safe
def rems_forms(request: HttpRequest) -> TemplateResponse:
    _require(request, VIEW_PERMISSION)
    shown, page = _listed(request)
    forms = [rems.monitoring_form(record) for record in page]
    record_list_access(request, page.object_list, shown="REMS monitoring forms")
    # Sessions whose chart is not signed yet: their forms cannot be made, their deadline runs.
    unsigned = rems.unsigned_sessions() if shown == rems.Status.DUE and page.number == 1 else []
    record_list_access(request, [session.visit for session in unsigned], shown="esketamine sessions to chart")
    context = {
        **admin.site.each_context(request),
        "title": _("REMS monitoring forms"),
        "forms": forms,
        "unsigned": unsigned,
        "page": page,
        "shown": shown,
        "statuses": rems.Status,
        "can_submit": request.user.has_perm(SUBMIT_PERMISSION),
        "list_url": reverse("admin:rems_forms"),
    }
    return TemplateResponse(request, "admin/treatment/rems/list.html", context)


def _form(pk: int) -> rems.MonitoringForm:
    return rems.monitoring_form(get_object_or_404(rems.rems_records(), pk=pk))


@require_safe
def rems_form_print(request: HttpRequest, pk: int) -> TemplateResponse:
    _require(request, VIEW_PERMISSION)
    form = _form(pk)
    record_access(form.record, shown="REMS monitoring form")
    context = {
        **admin.site.each_context(request),
        "title": _("REMS monitoring form — session chart #%(id)s") % {"id": form.record.pk},
        "form": form,
        "can_submit": request.user.has_perm(SUBMIT_PERMISSION),
    }
    return TemplateResponse(request, "admin/treatment/rems/print.html", context)


def _csv(filename: str, forms: list[rems.MonitoringForm]) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    writer = csv.writer(response)
    writer.writerow(rems.csv_header())
    writer.writerows([csv_cell(value) for value in rems.csv_row(form)] for form in forms)
    return response


@require_safe
def rems_form_csv(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request, VIEW_PERMISSION)
    form = _form(pk)
    record_access(form.record, shown="REMS monitoring form (CSV)")
    return _csv(f"rems-monitoring-form-{form.record.pk}.csv", [form])


@require_safe
def rems_forms_csv(request: HttpRequest) -> HttpResponse:
    """The forms the list shows (the same status and page), one row each."""
    _require(request, VIEW_PERMISSION)
    shown, page = _listed(request)
    forms = [rems.monitoring_form(record) for record in page]
    record_list_access(request, page.object_list, shown="REMS monitoring forms (CSV)")
    return _csv(f"rems-monitoring-forms-{shown}-{rems.clinic_today().isoformat()}-p{page.number}.csv", forms)


@require_POST
def rems_form_submit(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request, SUBMIT_PERMISSION)
    record = get_object_or_404(SessionRecord, pk=pk)
    try:
        marked = rems.rems_form_mark_submitted(record=record, by=request.user)
    except rems.RemsFormRefused as refusal:
        messages.warning(request, _("Session chart #%(id)s: %(why)s") % {"id": record.pk, "why": refusal})
    else:
        messages.success(
            request,
            _("Session chart #%(id)s: its REMS monitoring form is marked submitted (%(when)s).")
            % {"id": record.pk, "when": clinic_time(marked.rems_submitted_at)},
        )
    return redirect(back_url(request, reverse("admin:rems_forms")))
