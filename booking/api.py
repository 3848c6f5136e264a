"""GET /api/slots?type=<slug>&start=YYYY-MM-DD&days=N&tz=<IANA>[&clinician=<id>]: open slots as JSON.

Every parameter is checked here, before a query: whatever is sent, the answer is the slots or a
400 saying what to send, never a server error.
"""

import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.http import require_safe

from booking import selectors
from booking.models import AppointmentType
from telemed.converters import whole_number
from telemed.limits import over_limit
from telemed.people import parse_time_zone

MAX_DAYS = 62
# No booking lies a century away: this keeps year 1 and 9999 out of the window's arithmetic
# (as booking.views.CHOICE_REACH does for a picked time).
START_REACH = timedelta(days=36_500)
TYPE_SLUG = re.compile(r"[-a-zA-Z0-9_]{1,50}")


def error(message: str) -> JsonResponse:
    return JsonResponse({"error": message}, status=400)


@require_safe
def api_slots(request):
    if over_limit(request, "slots-api"):  # per address (telemed/limits.py): the calendar is not for scraping
        response = JsonResponse(
            {"error": "Too many requests from this address; please wait a minute, or call the clinic."}, status=429
        )
        response["Retry-After"] = "60"
        return response
    params = request.GET
    type_slug = params.get("type", "")
    zone = parse_time_zone(params.get("tz", ""))
    first_day = _date(params.get("start", ""))
    days = whole_number(params.get("days", "1"), MAX_DAYS)
    clinician_text = params.get("clinician", "")
    clinician_id = whole_number(clinician_text) if clinician_text else None
    if not TYPE_SLUG.fullmatch(type_slug):  # no such slug can exist: no query needed
        return error(UNKNOWN_TYPE)
    problem = _problem(zone, first_day, days, clinician_text, clinician_id)
    if problem:
        # An unknown type is named first, as when it was checked first; only bad requests pay this query.
        if not AppointmentType.objects.filter(slug=type_slug, active=True).exists():
            return error(UNKNOWN_TYPE)
        return error(problem)
    window_start = datetime.combine(first_day, time(0), tzinfo=zone)
    window_end = datetime.combine(first_day + timedelta(days=days), time(0), tzinfo=zone)
    found = selectors.open_starts(
        type_slug=type_slug,
        window_start=window_start,
        window_end=window_end,
        now=timezone.now(),
        clinician_id=clinician_id,
    )
    if found is None or not found.schedule.active:
        return error(UNKNOWN_TYPE)
    schedule = found.schedule
    clinicians = {clinician: {"id": clinician, "name": hours.name} for clinician, hours in schedule.clinicians.items()}
    return JsonResponse(
        {
            "type": schedule.slug,
            "time_zone": str(zone),
            "duration_minutes": schedule.duration_minutes,
            "slots": [
                {"start": start.astimezone(zone).isoformat(), "clinician": clinicians[clinician]}
                for start, clinician in found.as_datetimes()
            ],
        }
    )


UNKNOWN_TYPE = "Unknown appointment type: use one of the slugs listed at /book/."


def _problem(
    zone: ZoneInfo | None, first_day: date | None, days: int | None, clinician_text: str, clinician_id: int | None
) -> str:
    """What is wrong with the request's parameters other than the type (empty when nothing is)."""
    if zone is None:
        return "tz must be an IANA time zone name, e.g. America/New_York."
    if first_day is None:
        return "start must be a date as YYYY-MM-DD."
    if abs(first_day - timezone.localdate(timezone=zone)) > START_REACH:
        return "start is out of range: ask for dates within a hundred years of today."
    if days is None or not 1 <= days <= MAX_DAYS:
        return f"days must be a whole number from 1 to {MAX_DAYS}."
    if clinician_text and clinician_id is None:
        return "clinician must be a clinician id."
    return ""


def _date(text: str) -> date | None:
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None
