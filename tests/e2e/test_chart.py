"""A clinician charts an esketamine session on a tablet, in Chromium, without JavaScript of our
own: opened from the day schedule, the checklist and the dose, readings as the clock moves, a
discharge refused at 70 minutes with its reasons shown, allowed at 125 with the readings in range,
then the signature. Axe on every page, errors included."""

import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from booking.models import Appointment
from tests.booking.test_schedule import visit
from tests.e2e.conftest import _page
from tests.e2e.test_schedule import sign_in, visit_card
from tests.e2e.test_screening import assert_accessible
from tests.factories import ClinicianFactory, staff_with_role
from treatment.models import DischargeOverride, SessionRecord

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

CLINIC = ZoneInfo("America/New_York")


def tuesday(hour: int, minute: int = 0) -> datetime.datetime:
    return datetime.datetime(2026, 12, 8, hour, minute, tzinfo=CLINIC)


@pytest.fixture
def tablet(browser, live_server, page_watch):
    """An iPad Air held upright: 820 × 1180, touch."""
    context, page = _page(
        browser, live_server, page_watch, viewport={"width": 820, "height": 1180}, is_mobile=True, has_touch=True
    )
    yield page
    context.close()
    assert page_watch.foreign_requests == [], "requests left the site"


def later(page, clock, to: datetime.datetime, chart: str) -> None:
    """The clock moves on to `to` while the clinician keeps the chart open, looking at it at
    least every 10 minutes (staff are signed out after 15 idle minutes)."""
    now = datetime.datetime.now(tz=CLINIC)
    while now < to:
        now = min(now + datetime.timedelta(minutes=10), to)
        clock.move_to(now)
        page.goto(chart)


def add_reading(page, time: str, systolic: str, diastolic: str, heart_rate: str, spo2: str, sedation: str) -> None:
    page.locator("#id_observation-at").fill(time)
    page.locator("#id_observation-systolic").fill(systolic)
    page.locator("#id_observation-diastolic").fill(diastolic)
    page.locator("#id_observation-heart_rate").fill(heart_rate)
    page.locator("#id_observation-spo2").fill(spo2)
    page.locator("#id_observation-sedation").select_option(sedation)
    page.get_by_role("button", name="Add the reading").click()
    expect(page.locator(".messagelist")).to_contain_text("Reading added.")


def discharge(page, time: str) -> None:
    page.locator("#id_discharge-at").fill(time)
    page.locator("#id_discharge-discharged_to").fill("Sam Rivera, her partner")
    page.get_by_role("button", name="Discharge the patient").click()


def test_a_clinician_charts_an_esketamine_session_through_to_its_signature(tablet, page_watch):
    page = tablet
    with time_machine.travel(tuesday(8, 50), tick=True) as clock:
        chen = ClinicianFactory(name="Dr. Chen", offers=["esketamine-nasal"])
        session = visit(chen, tuesday(9), slug="esketamine-nasal", name="Alex Rivera")
        session.patient.rems_enrolled_on = datetime.date(2026, 11, 2)
        session.patient.save(update_fields=["rems_enrolled_on"])
        nurse = staff_with_role("Clinician", first_name="Robin", last_name="Park")
        sign_in(page, nurse, TOTPDevice.objects.create(user=nurse, name="Authenticator app", confirmed=True))

        chart = f"/admin/schedule/visits/{session.pk}/chart/"
        page.goto("/admin/schedule/?date=2026-12-08")
        assert_accessible(page)
        visit_card(page, "Alex Rivera").get_by_role("link", name="Chart Alex Rivera").click()
        expect(page.get_by_role("heading", name="Session chart: Esketamine nasal spray session")).to_be_visible()
        assert_accessible(page)
        page.get_by_role("button", name="Open the chart").click()
        expect(page.locator(".messagelist")).to_contain_text("Chart opened; the patient is checked in.")
        assert_accessible(page)

        # The checklist: the driver's phone forgotten first, the summary taking the keyboard to it.
        page.locator("#id_checklist-fasted_since").fill("2026-12-08T06:30")
        page.locator("#id_checklist-ride_driver_name").fill("Sam Rivera")
        for name in ("benzodiazepines", "sedative_hypnotics", "psychostimulants", "maois"):
            page.locator(f"#id_checklist-takes_{name}").select_option("no")
        page.get_by_role("button", name="Save the checklist").click()
        summary = page.get_by_role("alert")
        expect(summary).to_contain_text("Driver's phone: Enter the driver's phone number as well")
        assert_accessible(page)
        summary.get_by_role("link").click()
        expect(page.locator("#id_checklist-ride_driver_phone")).to_be_focused()
        expect(page.locator("#id_checklist-ride_driver_name")).to_have_value("Sam Rivera")  # nothing typed lost
        page.locator("#id_checklist-ride_driver_phone").fill("(555) 010-0199")
        page.get_by_role("button", name="Save the checklist").click()
        expect(page.locator(".messagelist")).to_contain_text("Check-in checklist saved.")

        add_reading(page, "08:55", "128", "82", "74", "99", "5")  # the baseline, before dosing

        later(page, clock, tuesday(9, 1), chart)
        expect(page.locator("#id_administration-route")).to_have_value("intranasal")
        page.locator("#id_administration-dose_mg").fill("56")
        page.locator("#id_administration-lot_number").fill("LOT-4411")
        page.locator("#id_administration-first_administration_at").fill("09:00")
        page.get_by_role("button", name="Save the administration").click()
        expect(page.locator(".messagelist")).to_contain_text("Administration saved.")
        assert_accessible(page)

        later(page, clock, tuesday(9, 41), chart)
        add_reading(page, "09:40", "146", "92", "88", "97", "4")  # the peak, about 40 minutes in
        later(page, clock, tuesday(10, 10), chart)
        add_reading(page, "10:05", "132", "84", "76", "98", "5")

        # 70 minutes after the first administration: refused, each reason said and linked.
        discharge(page, "10:10")
        summary = page.get_by_role("alert")
        expect(summary).to_contain_text("The patient cannot be discharged yet:")
        expect(summary).to_contain_text("Monitored 70 minutes since the first administration; at least 120")
        assert_accessible(page)
        expect(page.locator("#id_discharge-discharged_to")).to_have_value("Sam Rivera, her partner")
        assert SessionRecord.objects.get().discharged_at is None

        # 125 minutes, the readings in range: allowed, with no override.
        later(page, clock, tuesday(11, 5), chart)
        add_reading(page, "11:00", "124", "80", "72", "98", "5")
        expect(page.get_by_text("Every discharge check is met now.")).to_be_visible()
        discharge(page, "11:05")
        expect(page.locator(".messagelist")).to_contain_text("Patient discharged.")
        assert_accessible(page)

        page.locator("#id_sign-ready_without_rule_minutes").fill("100")
        page.get_by_role("button", name="Sign the chart").click()
        expect(page.locator(".messagelist")).to_contain_text("Chart signed and locked")
        expect(page.get_by_text("the chart is locked; changes are addenda")).to_be_visible()
        assert_accessible(page)

    record = SessionRecord.objects.get()
    assert record.discharged_at == tuesday(11, 5) and record.signed_by == nurse
    assert record.first_administration_at == tuesday(9) and record.ride_driver_phone == "(555) 010-0199"
    assert list(record.observations.values_list("systolic", flat=True)) == [128, 146, 132, 124]
    assert not DischargeOverride.objects.exists()
    assert Appointment.objects.get(pk=session.pk).status == Appointment.Status.COMPLETED
    assert page_watch.console_errors == []
