"""GET /api/slots?type=<slug>&start=YYYY-MM-DD&days=N&tz=<IANA>[&clinician=<id>]: open slots as JSON."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.http import require_safe

from booking import selectors
from booking.models import AppointmentType

MAX_DAYS = 62


def error(message: str) -> JsonResponse:
    return JsonResponse({"error": message}, status=400)


def parse_time_zone(name: str) -> ZoneInfo | None:
    if not name or len(name) > 64 or ".." in name or name.startswith("/"):
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


@require_safe
def api_slots(request):
    params = request.GET
    appointment_type = AppointmentType.objects.filter(slug=params.get("type", "")[:50], active=True).first()
    if appointment_type is None:
        return error("Unknown appointment type: use one of the slugs listed at /book/.")
    zone = parse_time_zone(params.get("tz", ""))
    if zone is None:
        return error("tz must be an IANA time zone name, e.g. America/New_York.")
    try:
        first_day = date.fromisoformat(params.get("start", ""))
    except ValueError:
        return error("start must be a date as YYYY-MM-DD.")
    days_text = params.get("days", "1")
    if not days_text.isdigit() or not 1 <= int(days_text) <= MAX_DAYS:
        return error(f"days must be a whole number from 1 to {MAX_DAYS}.")
    try:
        window_start = datetime.combine(first_day, time(0), tzinfo=zone)
        window_end = datetime.combine(first_day + timedelta(days=int(days_text)), time(0), tzinfo=zone)
    except OverflowError:
        return error("start is out of range.")
    clinician_text = params.get("clinician", "")
    if clinician_text and not clinician_text.isdigit():
        return error("clinician must be a clinician id.")
    found = selectors.open_slots(
        appointment_type=appointment_type,
        window_start=window_start,
        window_end=window_end,
        now=timezone.now(),
        clinician_id=int(clinician_text) if clinician_text else None,
    )
    return JsonResponse(
        {
            "type": appointment_type.slug,
            "time_zone": str(zone),
            "duration_minutes": appointment_type.duration_minutes,
            "slots": [
                {
                    "start": slot.start.astimezone(zone).isoformat(),
                    "clinician": {"id": slot.clinician_id, "name": slot.clinician_name},
                }
                for slot in found
            ],
        }
    )
