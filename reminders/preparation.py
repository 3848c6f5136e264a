"""Getting ready for a treatment session: fasting cut-offs in the patient's clock time, in plain words.

Pure functions: plain values in, plain values out; no database, no settings.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.utils import dateformat
from django.utils.translation import gettext as _


@dataclass(frozen=True)
class Fasting:
    """When to stop eating and drinking (aware, patient's zone); None where the type sets no such rule."""

    no_food_after: datetime | None = None
    no_liquids_after: datetime | None = None


def fasting_times(*, start: datetime, time_zone: str, food_minutes: int | None, liquids_minutes: int | None) -> Fasting:
    """Cut-offs as elapsed time before `start`: a fast is physiological, a clock change does not shorten it."""
    if start.utcoffset() is None:
        raise ValueError("start must be timezone-aware")
    zone = ZoneInfo(time_zone)
    # Aware arithmetic within one zone is wall-clock arithmetic in Python: subtract in UTC instead.
    start_utc = start.astimezone(UTC)

    def cutoff(minutes: int | None) -> datetime | None:
        if minutes is None or minutes == 0:
            return None
        if minutes < 0:
            raise ValueError("fasting minutes cannot be negative")
        return (start_utc - timedelta(minutes=minutes)).astimezone(zone)

    return Fasting(no_food_after=cutoff(food_minutes), no_liquids_after=cutoff(liquids_minutes))


def fasting_sentence(fasting: Fasting, *, start_local: datetime) -> str:
    """The fasting rules as the patient reads them, in the visit's zone; "" when there are none."""
    if start_local.utcoffset() is None:
        raise ValueError("start_local must be timezone-aware")
    zone = start_local.tzinfo
    food = fasting.no_food_after.astimezone(zone) if fasting.no_food_after else None
    liquids = fasting.no_liquids_after.astimezone(zone) if fasting.no_liquids_after else None

    # Instants compared in UTC: within one zone Python compares wall clocks, and fall-back repeats an hour.
    if food and liquids and liquids.astimezone(UTC) == food.astimezone(UTC):
        return _("Nothing to eat or drink after %(when)s.") % {"when": _moment(food)}
    sentences = []
    if food:
        sentences.append(_("No solid food after %(when)s.") % {"when": _moment(food)})
    if food and liquids and liquids.astimezone(UTC) > food.astimezone(UTC):
        sentences.append(
            _(
                "Clear liquids (water, black coffee or tea without milk, clear juice) are fine until %(when)s; "
                "after that, nothing to drink."
            )
            % {"when": _moment(liquids, day_already_named=food)}
        )
    elif liquids:
        sentences.append(_("Nothing to drink after %(when)s.") % {"when": _moment(liquids, day_already_named=food)})
    return " ".join(sentences)


def _moment(when: datetime, *, day_already_named: datetime | None = None) -> str:
    """'8:30 AM on Tuesday, March 10'; the day is left out when the sentence before named the same one."""
    if (when.hour, when.minute) == (0, 0):
        # "Midnight on Tuesday" is read both ways: say which night.
        clock = _("midnight")
        moment = _("midnight at the end of %(day)s") % {"day": _day(_named_day(when))}
    else:
        clock = _("12:00 noon") if (when.hour, when.minute) == (12, 0) else dateformat.format(when, "g:i A")
        if day_already_named is not None and _named_day(day_already_named) == when.date():
            moment = clock
        else:
            moment = _("%(time)s on %(day)s") % {"time": clock, "day": _day(when.date())}
    if when.replace(fold=1 - when.fold).utcoffset() == when.utcoffset():
        return moment
    # A clock time the fall-back night shows twice.
    if when.fold:
        return _("%(moment)s (the second %(time)s, once the clocks have gone back)") % {"moment": moment, "time": clock}
    return _("%(moment)s (the first %(time)s, before the clocks go back)") % {"moment": moment, "time": clock}


def _named_day(when: datetime) -> date:
    """The day a moment is written with: midnight belongs to the day that ends."""
    return when.date() - timedelta(days=1) if (when.hour, when.minute) == (0, 0) else when.date()


def _day(day: date) -> str:
    return dateformat.format(day, "l, F j")
