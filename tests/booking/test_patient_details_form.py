"""The booking's contact details and the screening's "About you" read a name and a phone alike."""

import pytest

from booking.forms import PatientDetailsForm
from screening.forms import AboutForm

PHONE_ERROR = {"phone": ["Please enter a phone number of 10 to 15 digits, for example (555) 010-0199."]}
VALID = {"full_name": "  Ada   Lovelace ", "email": "ada@example.org", "phone": " (555) 010-0199 "}


@pytest.mark.parametrize(
    ("changes", "errors"),
    [
        ({}, {}),
        ({"full_name": "   "}, {"full_name": ["This field is required."]}),
        (
            {"phone": "555 010 019"},
            {"phone": ["Please enter a phone number of 10 to 15 digits, for example (555) 010-0199."]},
        ),
        (
            {"phone": "٥٥٥٠١٠٠١٩٩"},
            {"phone": ["Please enter a phone number of 10 to 15 digits, for example (555) 010-0199."]},
        ),
        ({"email": "ada"}, {"email": ["Enter a valid email address."]}),
    ],
)
def test_both_forms_accept_and_refuse_the_same_details_with_the_same_words(changes, errors):
    data = {**VALID, **changes}
    booking = PatientDetailsForm(data)
    about = AboutForm({**data, "date_of_birth": "1985-03-27", "region": "NY"})
    assert booking.is_valid() == about.is_valid() == (not errors)
    assert booking.errors == errors == about.errors
    if not errors:
        assert booking.cleaned_data == {
            "full_name": "Ada Lovelace",
            "email": "ada@example.org",
            "phone": "(555) 010-0199",
        }
        assert {name: about.cleaned_data[name] for name in booking.cleaned_data} == booking.cleaned_data


def test_the_booking_fields_render_as_the_screenings_do():
    booking, about = PatientDetailsForm(), AboutForm()
    for name in ("full_name", "email", "phone"):
        assert str(booking[name]) == str(about[name])  # same input, attributes and autocomplete
        assert booking[name].label == about[name].label and booking[name].help_text == about[name].help_text
