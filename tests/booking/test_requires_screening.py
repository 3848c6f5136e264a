"""The screening gate follows the type's "needs a finished screening" flag, not its slug, which staff may edit."""

from html.parser import HTMLParser

import pytest

from booking import services
from booking.models import AppointmentType
from tests.booking.conftest import clinic_time
from tests.booking.test_booking import details
from tests.factories import ClinicianFactory, staff_sign_in, staff_with_role
from tests.screening import personas
from tests.screening.test_flow import complete

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_now", "celery_eager")]

SCREENING_FIRST = "Please complete the screening first"


class ChangeForm(HTMLParser):
    """The values an admin change form would post as the page leaves it."""

    def __init__(self):
        super().__init__()
        self.data: dict[str, str] = {}
        self._select = self._textarea = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        name = attrs.get("name")
        if tag == "input" and name and attrs.get("type") not in ("submit", "button"):
            if attrs.get("type") != "checkbox" or "checked" in attrs:
                self.data[name] = attrs.get("value") or ("on" if attrs.get("type") == "checkbox" else "")
        elif tag == "select":
            self._select = name
        elif tag == "option" and self._select and "selected" in attrs:
            self.data[self._select] = attrs.get("value", "")
        elif tag == "textarea":
            self._textarea = name
            self.data[name] = ""

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data):
        if self._textarea:
            self.data[self._textarea] += data


def rename_in_the_admin(client, appointment_type: AppointmentType, slug: str) -> None:
    url = f"/admin/booking/appointmenttype/{appointment_type.pk}/change/"
    form = ChangeForm()
    form.feed(client.get(url).content.decode())
    response = client.post(url, {**form.data, "slug": slug})
    assert response.status_code == 302, response.content.decode()[:2000]


@pytest.fixture
def manager_client(client):
    staff_sign_in(client, staff_with_role("Manager"))
    return client


def test_a_type_that_needs_a_screening_is_refused_without_one_whatever_its_slug():
    intake = AppointmentType.objects.create(
        slug="intake", name="Intake", mode=AppointmentType.Mode.VIDEO, duration_minutes=30, requires_screening=True
    )
    refusal = services.booking_refusal(appointment_type=intake, screening=None, patient=None)
    assert str(refusal).startswith(SCREENING_FIRST)
    intake.requires_screening = False
    intake.save()
    refusal = services.booking_refusal(appointment_type=intake, screening=None, patient=None)
    assert refusal and not str(refusal).startswith(SCREENING_FIRST)  # the follow-up rule: patients only


def test_the_consultation_renamed_in_the_admin_still_needs_a_screening(manager_client, client):
    clinician = ClinicianFactory(offers=["consultation"])
    consultation = AppointmentType.objects.get(slug="consultation")
    rename_in_the_admin(manager_client, consultation, "first-visit")
    consultation.refresh_from_db()
    assert consultation.slug == "first-visit" and consultation.requires_screening

    client.logout()
    response = client.get("/book/first-visit/")
    assert response.status_code == 403 and SCREENING_FIRST in response.content.decode()

    screening = complete(client, personas.ELIGIBLE)
    client.get(f"/book/?screening={screening.token}")
    assert client.get("/book/first-visit/").status_code == 200

    def book(start, key):
        return services.appointment_book(
            appointment_type=consultation,
            clinician_id=clinician.pk,
            start=start,
            details=details(),
            time_zone="America/New_York",
            request_key=key,
            screening=screening,
        )

    book(clinic_time(8, 10), "first")
    with pytest.raises(services.BookingError, match="already have a consultation"):  # still one at a time
        book(clinic_time(9, 10), "second")
    refusal = services.booking_refusal(appointment_type=consultation, screening=screening, patient=None)
    assert refusal == services.ONE_CONSULTATION
