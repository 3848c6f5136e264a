"""Time zones as patients read them: "Eastern Time — New York", any IANA zone, parsed safely.

Names come from the Unicode CLDR through Babel (generic metazone name and exemplar city), in the
active language; computed once per process and language.
"""

from functools import cache
from zoneinfo import available_timezones

from babel.core import get_global
from babel.dates import get_timezone, get_timezone_location, get_timezone_name
from django.utils.translation import get_language, to_locale
from django.utils.translation import gettext as _

from telemed.people import parse_time_zone

# The zones most of the clinic's patients live in, offered first.
COMMON = (
    "America/New_York", "America/Chicago", "America/Denver", "America/Phoenix", "America/Los_Angeles",
    "America/Anchorage", "Pacific/Honolulu", "America/Puerto_Rico",
)  # fmt: skip
AREAS = ("America", "Pacific", "Atlantic", "Europe", "Africa", "Asia", "Indian", "Australia", "Antarctica")


@cache
def _canonical_zones() -> tuple[str, ...]:
    """Every current IANA zone of a place (no aliases such as US/Eastern, no Etc/GMT+5)."""
    aliases = get_global("zone_aliases")
    return tuple(
        sorted(name for name in available_timezones() if name not in aliases and name.partition("/")[0] in AREAS)
    )


def _locale() -> str:
    return to_locale(get_language() or "en-us")


@cache
def _label(name: str, locale: str) -> str:
    if name in ("UTC", "Etc/UTC"):
        return _("Coordinated Universal Time (UTC)")
    try:
        zone = get_timezone(name)
        generic = get_timezone_name(zone, "long", locale=locale)
        city = get_timezone_location(zone, locale=locale, return_city=True)
    except (LookupError, ValueError):
        return name
    if "/" in city or "(" in generic:  # CLDR has no name for it: the IANA name reads better
        return name.replace("_", " ")
    return f"{generic} — {city}"


def zone_label(name: str) -> str:
    """A zone as a person reads it, e.g. "Eastern Time — New York"; the name itself if unknown."""
    return _label(str(name), _locale())


def zone_choices(selected: str) -> list[tuple[str, list[tuple[str, str, bool]]]]:
    """Option groups for a <select> of every zone: (group label, [(value, label, selected)]),
    the common ones first. Only the first option of the selected zone is marked selected."""
    locale = _locale()
    marked = False

    def option(name: str) -> tuple[str, str, bool]:
        nonlocal marked
        is_selected = not marked and name == selected
        marked = marked or is_selected
        return name, _label(name, locale), is_selected

    groups = [(_("United States"), [option(name) for name in COMMON])]
    for area in AREAS:
        names = [name for name in _canonical_zones() if name.startswith(area + "/")]
        groups.append((area, sorted((option(name) for name in names), key=lambda item: item[1])))
    groups.append((_("Other"), [option("UTC")]))
    if not marked and parse_time_zone(selected):  # a valid zone outside the list (an alias)
        groups[0][1].insert(0, (selected, _label(selected, locale), True))
    return groups
