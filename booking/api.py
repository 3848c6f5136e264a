"""GET /api/slots?type=<slug>&start=YYYY-MM-DD&days=N&tz=<IANA>[&clinician=<id>]: open slots as JSON."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.http import require_safe

from booking import selectors
from booking.models import AppointmentType
from telemed.timezones import parse_time_zone

MAX_DAYS = 62


def error(message: str) -> JsonResponse:
    return JsonResponse({"error": message}, status=400)


@require_safe
def api_slots(request):
    params = request.GET
    type_slug = params.get("type", "")[:50]
    zone = parse_time_zone(params.get("tz", ""))
    try:
        first_day = date.fromisoformat(params.get("start", ""))
    except ValueError:
        first_day = None
    days_text = params.get("days", "1")
    clinician_text = params.get("clinician", "")
    problem = _problem(zone, first_day, days_text, clinician_text)
    if problem:
        # An unknown type is named first, as when it was checked first; only bad requests pay this query.
        if not AppointmentType.objects.filter(slug=type_slug, active=True).exists():
            return error(UNKNOWN_TYPE)
        return error(problem)
    window_start = datetime.combine(first_day, time(0), tzinfo=zone)
    window_end = datetime.combine(first_day + timedelta(days=int(days_text)), time(0), tzinfo=zone)
    found = selectors.open_starts(
        type_slug=type_slug,
        window_start=window_start,
        window_end=window_end,
        now=timezone.now(),
        clinician_id=int(clinician_text) if clinician_text else None,
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


def _problem(zone: ZoneInfo | None, first_day: date | None, days_text: str, clinician_text: str) -> str:
    """What is wrong with the request's parameters other than the type (empty when nothing is)."""
    if zone is None:
        return "tz must be an IANA time zone name, e.g. America/New_York."
    if first_day is None:
        return "start must be a date as YYYY-MM-DD."
    if not days_text.isdigit() or not 1 <= int(days_text) <= MAX_DAYS:
        return f"days must be a whole number from 1 to {MAX_DAYS}."
    try:
        datetime.combine(first_day + timedelta(days=int(days_text)), time(0), tzinfo=zone)
    except OverflowError:
        return "start is out of range."
    if clinician_text and not clinician_text.isdigit():
        return "clinician must be a clinician id."
    return ""
