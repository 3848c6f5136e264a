"""Notifications still owed, by their rows: what a beat sweep sends again when a message was lost.

The broker keeps no copy of a message (see CELERY_BROKER_TRANSPORT_OPTIONS in settings): a row that
says a notification was due and not yet sent is the record. The normal path sends within seconds;
one still unsent after LOST_AFTER was lost. Rows older than LOOK_BACK are left to staff.
"""

from datetime import datetime, timedelta

LOST_AFTER = timedelta(minutes=2)
LOOK_BACK = timedelta(days=7)


def lost_since(field: str, now: datetime) -> dict:
    """Filter arguments: `field` (when the notification became due) within the sweep's window."""
    return {f"{field}__lt": now - LOST_AFTER, f"{field}__gte": now - LOOK_BACK}
