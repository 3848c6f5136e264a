"""Time zones as patients read them, and any IANA zone accepted, over HTTP and as pure functions."""

import pytest

from telemed.people import parse_time_zone
from telemed.timezones import zone_choices, zone_label


@pytest.mark.parametrize(
    ("name", "label"),
    [
        ("America/New_York", "Eastern Time — New York"),
        ("America/Chicago", "Central Time — Chicago"),
        ("America/Los_Angeles", "Pacific Time — Los Angeles"),
        ("Pacific/Honolulu", "Hawaii-Aleutian Time — Honolulu"),
        ("Asia/Kolkata", "India Time — Kolkata"),
        ("UTC", "Coordinated Universal Time (UTC)"),
    ],
)
def test_zones_have_their_friendly_names(name, label):
    assert zone_label(name) == label


def test_a_zone_cldr_has_no_name_for_reads_as_its_place_not_as_babels_guess():
    # CLDR files Buenos Aires under an older name; Babel's guess would be "Argentina (Argentina/Buenos Aires) Time".
    assert zone_label("America/Argentina/Buenos_Aires") == "America/Argentina/Buenos Aires"


def test_every_place_zone_can_be_chosen_and_exactly_one_is_selected():
    groups = zone_choices("Asia/Kathmandu")
    values = [value for _group, options in groups for value, _label, _selected in options]
    assert len(set(values)) > 300 and all(parse_time_zone(value) for value in values)
    assert {"Asia/Kathmandu", "Europe/Paris", "Africa/Lagos", "Australia/Sydney", "UTC"} <= set(values)
    assert not any(value.startswith(("US/", "Etc/")) for value in values)  # aliases are not offered twice
    assert [value for _g, options in groups for value, _l, selected in options if selected] == ["Asia/Kathmandu"]
    labels = [label for _g, options in groups for _v, label, _s in options]
    assert not any("Unknown" in label or "_" in label for label in labels)


def test_an_alias_zone_is_kept_selected():
    groups = zone_choices("US/Eastern")
    assert groups[0][1][0] == ("US/Eastern", zone_label("US/Eastern"), True)


@pytest.mark.parametrize("name", ["", "Mars/Olympus", "../../etc/passwd", "/etc/localtime", "a\x00b", "x" * 65, "²"])
def test_bad_zone_names_are_refused_without_an_error(name):
    assert parse_time_zone(name) is None
