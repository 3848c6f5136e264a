"""The staff schedule: a clinic day per clinician and a week, in the clinic's zone (DST days
included), with each visit's readiness in words; who may open it; bad addresses answered kindly;
a fixed number of queries whatever the number of visits."""

import datetime
import html
import itertools
import re
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from booking.models import Appointment, AppointmentType, Clinician, Patient, TimeOff, TreatmentPlan
from booking.services import visit_times
from reminders.models import Reminder, ReminderKind, ReminderStatus
from screening.models import Outcome, Screening
from tests.booking.conftest import clinic_time
from tests.factories import ClinicianFactory, StaffUserFactory, staff_sign_in, staff_with_role

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_now")]

CLINIC = ZoneInfo("America/New_York")
DAY_URL = "/admin/schedule/"
WEEK_URL = "/admin/schedule/week/"
_emails = itertools.count()


def visit(clinician, start, *, slug="consultation", status=Appointment.Status.CONFIRMED, name=None, **fields):
    """A visit as booked (the booking services are tested elsewhere): its own patient unless given."""
    kind = AppointmentType.objects.get(slug=slug) if isinstance(slug, str) else slug
    end, blocked_start, blocked_end = visit_times(kind, start)
    n = next(_emails)
    patient = fields.pop("patient", None) or Patient.objects.create(
        full_name=name or f"Patient {n}", email=f"patient{n}@example.org", phone="5550100123"
    )
    return Appointment.objects.create(
        patient=patient,
        clinician=clinician,
        appointment_type=kind,
        start=start,
        end=end,
        blocked_start=blocked_start,
        blocked_end=blocked_end,
        status=status,
        **fields,
    )


def screening(**fields) -> Screening:
    return Screening.objects.create(outcome=Outcome.ELIGIBLE, submitted_at=timezone.now(), **fields)


def preparation_reminder(appointment, status=ReminderStatus.SENT) -> Reminder:
    return Reminder.objects.create(
        appointment=appointment,
        kind=ReminderKind.PREPARATION,
        due_at=appointment.start - datetime.timedelta(hours=48),
        for_start=appointment.start,
        status=status,
        sent_at=timezone.now() if status == ReminderStatus.SENT else None,
    )


def card(page: str, patient_name: str) -> str:
    """The text of the one visit card that names this patient (tags removed, spaces squeezed)."""
    cards = [c for c in re.findall(r"<article class=\"visit-card.*?</article>", page, re.S) if patient_name in c]
    assert len(cards) == 1, f"{len(cards)} cards for {patient_name}"
    return text(cards[0])


def text(fragment: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def column(page: str, clinician) -> str:
    match = re.search(rf'<section class="schedule-column[^"]*" id="clinician-{clinician.pk}".*?</section>', page, re.S)
    assert match, f"no column for {clinician}"
    return match.group(0)


@pytest.fixture
def front_desk(client):
    staff_sign_in(client, staff_with_role("Front desk"))
    return client


class TestDay:
    def test_each_clinician_has_a_column_with_hours_and_visits_in_clinic_time_in_order(self, front_desk):
        chen, diaz = ClinicianFactory(name="Dr. Chen"), ClinicianFactory(name="Dr. Diaz")
        away = ClinicianFactory(name="Dr. Away", active=False)  # not taking bookings, no visits: no column
        later = visit(chen, clinic_time(8, 14), name="Sam Later")
        earlier = visit(chen, clinic_time(8, 9, 30), name="Alex Early")
        visit(diaz, clinic_time(8, 10), name="Robin Other")
        visit(chen, clinic_time(9, 10), name="Next Day")

        page = front_desk.get(DAY_URL, {"date": "2026-12-08"}).content.decode()

        assert "Schedule: Tuesday, December 8, 2026" in page
        assert "All times are the clinic's, America/New_York." in page
        chen_column = column(page, chen)
        assert "Dr. Chen" in chen_column and "Working hours: 9:00 AM–12:00 PM, 1:00 PM–5:00 PM" in text(chen_column)
        assert "12:00 PM–1:00 PM Break: not working" in text(chen_column)
        assert text(chen_column).index("Alex Early") < text(chen_column).index("Sam Later")
        assert "9:30 AM EST Alex Early" in card(page, "Alex Early")
        assert "Robin Other" in column(page, diaz) and "Robin Other" not in chen_column
        assert "Next Day" not in page and f'id="clinician-{away.pk}"' not in page
        # The patient's name opens the patient's record.
        assert f'href="{reverse("admin:booking_patient_change", args=[earlier.patient_id])}"' in page
        assert f'href="{reverse("admin:booking_patient_change", args=[later.patient_id])}"' in page
        assert "Consultation, until 10:15 AM" in card(page, "Alex Early")
        assert "Status: Confirmed" in card(page, "Alex Early")

    def test_a_visit_of_a_clinician_who_stopped_taking_bookings_still_shows(self, front_desk):
        gone = ClinicianFactory(name="Dr. Gone", active=False)
        visit(gone, clinic_time(8, 10), name="Still Booked")
        page = front_desk.get(DAY_URL, {"date": "2026-12-08"}).content.decode()
        assert "Still Booked" in column(page, gone)

    def test_time_off_is_shaded_and_said_and_visits_in_it_or_outside_hours_are_flagged(self, front_desk):
        chen = ClinicianFactory(name="Dr. Chen")
        TimeOff.objects.create(clinician=chen, start=clinic_time(8, 13), end=clinic_time(8, 15), reason="Training")
        visit(chen, clinic_time(8, 13, 30), name="In Time Off")
        visit(chen, clinic_time(8, 21), name="Late Evening")  # a move to 9 PM, as in the issue
        visit(chen, clinic_time(8, 9), name="Usual Hours")

        page = front_desk.get(DAY_URL, {"date": "2026-12-08"}).content.decode()

        assert '<li class="period period-time_off">' in column(page, chen)
        assert "1:00 PM–3:00 PM Time off : Training" in text(column(page, chen))
        assert "During time off" in card(page, "In Time Off")
        assert "Outside working hours" in card(page, "Late Evening")
        assert "Outside working hours" not in card(page, "Usual Hours")
        assert "During time off" not in card(page, "Usual Hours")

    def test_a_whole_day_off_says_so(self, front_desk):
        chen = ClinicianFactory(name="Dr. Chen")
        TimeOff.objects.create(clinician=chen, start=clinic_time(7, 0), end=clinic_time(10, 0), reason="Holiday")
        page = front_desk.get(DAY_URL, {"date": "2026-12-08"}).content.decode()
        assert "All day Time off : Holiday" in text(column(page, chen))
        assert "off-all-day" in column(page, chen)

    def test_the_readiness_badges_say_what_is_ready_and_what_is_not(self, front_desk):
        chen = ClinicianFactory(name="Dr. Chen", offers=["consultation", "iv-infusion"])
        reviewed = screening(urgent=True, reviewed_at=timezone.now())
        ready = visit(
            chen,
            clinic_time(8, 8),
            slug="iv-infusion",
            name="All Ready",
            screening=reviewed,
            ride_confirmed_at=timezone.now(),
            checked_in_at=clinic_time(8, 7, 50),
        )
        TreatmentPlan.objects.create(
            patient=ready.patient, appointment_type=ready.appointment_type, sessions=6, approved_at=timezone.now()
        )
        preparation_reminder(ready)
        waiting = visit(chen, clinic_time(8, 11), slug="iv-infusion", name="Not Ready", screening=screening())
        preparation_reminder(waiting, status=ReminderStatus.PENDING)
        ended = visit(chen, clinic_time(8, 14), slug="iv-infusion", name="Ended Plan")
        TreatmentPlan.objects.create(
            patient=ended.patient,
            appointment_type=ended.appointment_type,
            sessions=6,
            approved_at=timezone.now(),
            ended_at=timezone.now(),
        )
        visit(ClinicianFactory(), clinic_time(8, 11), name="Plain Consultation")

        page = front_desk.get(DAY_URL, {"date": "2026-12-08"}).content.decode()

        all_ready = card(page, "All Ready")
        for badge in (
            "Screening urgent",
            "Screening reviewed",
            "Plan approved",
            "Preparation reminder sent",
            "Ride home confirmed",
            "Checked in 7:50 AM",
        ):
            assert badge in all_ready
        not_ready = card(page, "Not Ready")
        for badge in (
            "Screening not reviewed",
            "No approved plan",
            "Preparation reminder not sent yet",
            "Ride home not confirmed",
            "Not checked in",
        ):
            assert badge in not_ready
        assert "Screening urgent" not in not_ready
        assert "No approved plan" in card(page, "Ended Plan")  # an ended plan approves nothing more
        plain = card(page, "Plain Consultation")  # no screening, plan, preparation or ride to speak of
        assert "Screening" not in plain and "plan" not in plain and "Ride" not in plain and "Preparation" not in plain

    def test_a_plan_whose_sessions_are_all_booked_approves_no_other_visit(self, front_desk):
        chen = ClinicianFactory(name="Dr. Chen", offers=["iv-infusion"])
        patient = Patient.objects.create(full_name="Full Plan", email="full@example.org", phone="5550100123")
        kind = AppointmentType.objects.get(slug="iv-infusion")
        plan = TreatmentPlan.objects.create(
            patient=patient, appointment_type=kind, sessions=1, approved_at=timezone.now()
        )
        visit(chen, clinic_time(7, 9), slug=kind, patient=patient, treatment_plan=plan)
        visit(chen, clinic_time(8, 9), slug=kind, patient=patient)  # booked beside the plan
        page = front_desk.get(DAY_URL, {"date": "2026-12-08"}).content.decode()
        assert "No approved plan" in card(page, "Full Plan")

    def test_a_visit_booked_within_a_plan_shows_it_approved(self, front_desk):
        chen = ClinicianFactory(name="Dr. Chen", offers=["iv-infusion"])
        patient = Patient.objects.create(full_name="Plan Patient", email="plan@example.org", phone="5550100123")
        kind = AppointmentType.objects.get(slug="iv-infusion")
        plan = TreatmentPlan.objects.create(
            patient=patient, appointment_type=kind, sessions=1, approved_at=timezone.now(), ended_at=timezone.now()
        )
        visit(chen, clinic_time(8, 9), slug=kind, patient=patient, treatment_plan=plan)
        page = front_desk.get(DAY_URL, {"date": "2026-12-08"}).content.decode()
        assert "Plan approved" in card(page, "Plan Patient")

    def test_an_esketamine_visit_says_whether_the_patients_rems_enrollment_is_recorded(self, front_desk):
        chen = ClinicianFactory(name="Dr. Chen", offers=["esketamine-nasal"])
        visit(chen, clinic_time(8, 9), slug="esketamine-nasal", name="Not Enrolled")
        enrolled = visit(chen, clinic_time(8, 13), slug="esketamine-nasal", name="Enrolled Patient")
        Patient.objects.filter(pk=enrolled.patient_id).update(rems_enrolled_on=datetime.date(2026, 11, 2))
        visit(ClinicianFactory(offers=["iv-infusion"]), clinic_time(8, 9), slug="iv-infusion", name="Iv Patient")
        page = front_desk.get(DAY_URL, {"date": "2026-12-08"}).content.decode()
        assert "REMS enrollment not recorded" in card(page, "Not Enrolled")
        assert "REMS enrolled" in card(page, "Enrolled Patient")
        assert "REMS" not in card(page, "Iv Patient")  # IV ketamine is not under the esketamine REMS

    def test_the_front_desk_sees_no_screening_answers_or_scores(self, front_desk):
        chen = ClinicianFactory(name="Dr. Chen")
        answered = screening(phq9_total=23, phq9_band="severe", gad7_total=17, answers={"about": {"x": "secret"}})
        visit(chen, clinic_time(8, 9), name="Private Person", screening=answered)
        page = front_desk.get(DAY_URL, {"date": "2026-12-08"}).content.decode()
        assert "Private Person" in page
        assert "23" not in card(page, "Private Person") and "severe" not in page and "secret" not in page

    def test_a_cancelled_visit_is_shown_as_cancelled_without_badges(self, front_desk):
        chen = ClinicianFactory(name="Dr. Chen")
        visit(chen, clinic_time(8, 9), name="Called Off", status=Appointment.Status.CANCELLED)
        shown = card(front_desk.get(DAY_URL, {"date": "2026-12-08"}).content.decode(), "Called Off")
        assert "Status: Cancelled" in shown and "Not checked in" not in shown

    def test_the_day_follows_the_clinic_clock_across_the_end_of_summer_time(self, front_desk):
        """Sunday 1 November 2026 has 25 hours in New York; 1:30 AM happens twice."""
        chen, other = ClinicianFactory(name="Dr. Chen"), ClinicianFactory(name="Dr. Other")
        utc = datetime.UTC
        visit(chen, datetime.datetime(2026, 11, 1, 4, 15, tzinfo=utc), name="Just After Midnight")  # 00:15 EDT
        visit(chen, datetime.datetime(2026, 11, 1, 5, 30, tzinfo=utc), name="First Half Past One")  # 01:30 EDT
        visit(chen, datetime.datetime(2026, 11, 1, 6, 30, tzinfo=utc), name="Second Half Past One")  # 01:30 EST
        visit(chen, datetime.datetime(2026, 11, 2, 4, 45, tzinfo=utc), name="Late Sunday")  # 23:45 EST
        visit(other, datetime.datetime(2026, 11, 1, 3, 45, tzinfo=utc), name="Late Saturday")  # 23:45 EDT, 31 Oct
        visit(other, datetime.datetime(2026, 11, 2, 5, 15, tzinfo=utc), name="Early Monday")  # 00:15 EST, 2 Nov

        page = front_desk.get(DAY_URL, {"date": "2026-11-01"}).content.decode()

        assert "12:15 AM EDT" in card(page, "Just After Midnight")
        assert "1:30 AM EDT" in card(page, "First Half Past One")
        assert "1:30 AM EST" in card(page, "Second Half Past One")
        assert "11:45 PM EST" in card(page, "Late Sunday")
        assert "Late Saturday" not in page and "Early Monday" not in page
        saturday = front_desk.get(DAY_URL, {"date": "2026-10-31"}).content.decode()
        assert "11:45 PM EDT" in card(saturday, "Late Saturday")

    def test_the_day_follows_the_clinic_clock_across_the_start_of_summer_time(self, front_desk):
        """Sunday 14 March 2027 has 23 hours in New York."""
        chen = ClinicianFactory(name="Dr. Chen")
        visit(chen, datetime.datetime(2027, 3, 14, 9, 0, tzinfo=CLINIC), name="Spring Morning")
        visit(chen, datetime.datetime(2027, 3, 15, 3, 30, tzinfo=datetime.UTC), name="Spring Night")  # 23:30 EDT
        visit(chen, datetime.datetime(2027, 3, 15, 4, 30, tzinfo=datetime.UTC), name="Monday Early")  # 00:30 EDT
        page = front_desk.get(DAY_URL, {"date": "2027-03-14"}).content.decode()
        assert "9:00 AM EDT" in card(page, "Spring Morning")
        assert "11:30 PM EDT" in card(page, "Spring Night")
        assert "Monday Early" not in page
        assert "Working hours: 9:00 AM–12:00 PM" in text(column(page, chen))

    def test_navigation_links_lead_to_today_tomorrow_previous_next_and_the_week(self, front_desk):
        chen = ClinicianFactory(name="Dr. Chen")
        page = front_desk.get(DAY_URL, {"date": "2026-12-10", "clinician": chen.pk}).content.decode()
        nav = re.search(r'<nav class="schedule-nav".*?</nav>', page, re.S).group(0)
        links = dict((text(label), href) for href, label in re.findall(r'<a href="([^"]+)"[^>]*>(.*?)</a>', nav))
        assert links["Today"] == f"/admin/schedule/?date=2026-12-07&amp;clinician={chen.pk}"
        assert links["Tomorrow"] == f"/admin/schedule/?date=2026-12-08&amp;clinician={chen.pk}"
        assert links["Previous day"] == f"/admin/schedule/?date=2026-12-09&amp;clinician={chen.pk}"
        assert links["Next day"] == f"/admin/schedule/?date=2026-12-11&amp;clinician={chen.pk}"
        assert links["Week"] == f"/admin/schedule/week/?date=2026-12-10&amp;clinician={chen.pk}"
        assert "Export visits (CSV)" not in links  # managers only

    def test_without_a_date_it_is_today_in_the_clinic(self, front_desk):
        chen = ClinicianFactory(name="Dr. Chen")
        visit(chen, clinic_time(7, 9), name="Monday Visit")
        page = front_desk.get(DAY_URL).content.decode()
        assert "Schedule: Monday, December 7, 2026" in page and "Monday Visit" in page

    @pytest.mark.parametrize(
        "bad",
        [
            "garbage",
            "0001-01-01",
            "2026-12-08\x00",
            "9" * 5000,
            "99999-01-01",
            "2026-02-30",
            "1999-12-31",
            "२०२६-१२-०८",
        ],
        ids=["garbage", "year-1", "nul", "huge", "year-99999", "no-such-day", "too-early", "other-digits"],
    )
    @pytest.mark.parametrize(
        ("url", "today"),
        [(DAY_URL, "Schedule: Monday, December 7, 2026"), (WEEK_URL, "Schedule: Week of Mon Dec 7 – Sun Dec 13")],
        ids=["day", "week"],
    )
    def test_a_bad_date_shows_today_with_a_kind_message(self, front_desk, bad, url, today):
        response = front_desk.get(url, {"date": bad})
        assert response.status_code == 200
        page = response.content.decode()
        assert "That is not a date we can show (use YYYY-MM-DD, between 2000-01-01 and 2099-12-31)" in page
        assert today in page

    @pytest.mark.parametrize("edge", ["2000-01-01", "2099-12-31"])
    @pytest.mark.parametrize("url", [DAY_URL, WEEK_URL], ids=["day", "week"])
    def test_the_first_and_last_days_shown_work_without_leading_further(self, front_desk, edge, url):
        response = front_desk.get(url, {"date": edge})
        assert response.status_code == 200
        assert "not a date we can show" not in response.content.decode()

    def test_the_clinician_filter_shows_one_column(self, front_desk):
        chen, diaz = ClinicianFactory(name="Dr. Chen"), ClinicianFactory(name="Dr. Diaz")
        visit(chen, clinic_time(8, 9), name="Chen Patient")
        visit(diaz, clinic_time(8, 9), name="Diaz Patient")
        page = front_desk.get(DAY_URL, {"date": "2026-12-08", "clinician": str(diaz.pk)}).content.decode()
        assert "Diaz Patient" in page and "Chen Patient" not in page
        assert f'id="clinician-{chen.pk}"' not in page
        assert "Schedule: Tuesday, December 8, 2026, Dr. Diaz" in page
        # The filter is a labelled GET form that keeps the day, with the choice selected.
        assert '<label for="id_clinician">Clinician</label>' in page
        assert '<input type="hidden" name="date" value="2026-12-08">' in page
        assert f'<option value="{diaz.pk}" selected>Dr. Diaz</option>' in page

    @pytest.mark.parametrize("bad", ["abc", "99999999999999999999999", "\x00", "0", "-1"])
    def test_a_bad_clinician_shows_everyone_with_a_kind_message(self, front_desk, bad):
        ClinicianFactory(name="Dr. Chen")
        response = front_desk.get(DAY_URL, {"date": "2026-12-08", "clinician": bad})
        assert response.status_code == 200
        assert "We could not find that clinician: here is everyone." in response.content.decode()
        assert "Dr. Chen" in response.content.decode()

    def test_the_page_is_printable_and_keyboard_navigable(self, front_desk):
        chen, diaz = ClinicianFactory(name="Dr. Chen"), ClinicianFactory(name="Dr. Diaz")
        visit(chen, clinic_time(8, 9))
        page = front_desk.get(DAY_URL, {"date": "2026-12-08"}).content.decode()
        assert "/static/css/schedule.css" in page
        assert f'<a href="#clinician-{chen.pk}">Dr. Chen</a>' in page  # jump to a clinician's column
        assert f'<h2 id="clinician-{diaz.pk}-name">Dr. Diaz</h2>' in page
        from django.contrib.staticfiles import finders

        with open(finders.find("css/schedule.css")) as css:
            stylesheet = css.read()
        assert "@media print" in stylesheet and ".schedule-nav" in stylesheet.split("@media print")[1]

    def test_the_admin_index_links_to_the_schedule(self, front_desk):
        page = front_desk.get("/admin/").content.decode()
        assert 'href="/admin/schedule/"' in page and 'href="/admin/schedule/week/"' in page
        assert "/admin/schedule/export/" not in page


def _action_urls_exist() -> bool:
    try:
        reverse("admin:visit_bulk")
        reverse("admin:visit_action", args=[1, "complete"])
    except NoReverseMatch:
        return False
    return True


class TestActions:
    """The controls for the visit actions (the actions themselves: tests/booking/test_visit_actions.py)."""

    @pytest.fixture(autouse=True)
    def _actions(self):
        if not _action_urls_exist():
            pytest.skip("the visit actions' URLs are not wired yet")

    def test_a_confirmed_visit_has_its_actions_and_a_past_one_the_end_of_day_box(self, front_desk):
        chen = ClinicianFactory(name="Dr. Chen")
        past = visit(chen, clinic_time(7, 7), name="Early Bird")  # 7 AM, before the clock's 8 AM
        coming = visit(chen, clinic_time(7, 10), name="Coming Later")
        visit(chen, clinic_time(7, 11), name="Already Done", status=Appointment.Status.COMPLETED)
        page = front_desk.get(DAY_URL, {"date": "2026-12-07"}).content.decode()
        here = "/admin/schedule/?date=2026-12-07"
        for pk in (past.pk, coming.pk):
            assert f'action="{reverse("admin:visit_action", args=[pk, "check_in"])}"' in page
            assert reverse("admin:visit_cancel", args=[pk]) in page and reverse("admin:visit_move", args=[pk]) in page
        assert f'action="{reverse("admin:visit_action", args=[past.pk, "complete"])}"' in page
        assert f'action="{reverse("admin:visit_action", args=[past.pk, "no_show"])}"' in page
        assert f'action="{reverse("admin:visit_action", args=[coming.pk, "no_show"])}"' not in page
        assert "Check in" not in card(page, "Already Done")
        bulk = re.search(r'<form id="bulk-form".*?</form>', page, re.S).group(0)
        assert f'action="{reverse("admin:visit_bulk")}"' in bulk and "csrfmiddlewaretoken" in bulk
        assert f'<input type="hidden" name="next" value="{here}">' in bulk
        assert '<option value="complete">' in bulk and '<option value="no_show">' in bulk
        assert f'name="visit" value="{past.pk}" form="bulk-form" id="select-visit-{past.pk}"' in page
        assert f'<label for="select-visit-{past.pk}">' in page
        assert f'name="visit" value="{coming.pk}"' not in page

    def test_without_the_change_permission_no_actions_are_offered(self, client):
        from django.contrib.auth.models import Permission

        viewer = StaffUserFactory()
        viewer.user_permissions.add(Permission.objects.get(codename="view_appointment"))
        staff_sign_in(client, viewer)
        visit(ClinicianFactory(), clinic_time(7, 7), name="Early Bird")
        page = client.get(DAY_URL, {"date": "2026-12-07"}).content.decode()
        assert "Early Bird" in page
        assert "visit-actions" not in page and "bulk-form" not in page


class TestWeek:
    def test_the_week_runs_monday_to_sunday_per_clinician_with_links_to_each_day(self, front_desk):
        chen, diaz = ClinicianFactory(name="Dr. Chen"), ClinicianFactory(name="Dr. Diaz")
        visit(chen, clinic_time(7, 9), name="Monday Chen")
        visit(diaz, clinic_time(13, 16), name="Sunday Diaz")
        visit(chen, clinic_time(14, 9), name="Next Monday")
        visit(chen, clinic_time(6, 9), name="Last Sunday")
        TimeOff.objects.create(clinician=diaz, start=clinic_time(9, 0), end=clinic_time(10, 0), reason="Leave")

        page = front_desk.get(WEEK_URL, {"date": "2026-12-09"}).content.decode()

        assert "Schedule: Week of Mon Dec 7 – Sun Dec 13, 2026" in page
        assert "Monday Chen" in page and "Sunday Diaz" in page
        assert "Next Monday" not in page and "Last Sunday" not in page
        assert "2 visits this week" in page
        assert '<th scope="row">Dr. Chen</th>' in page and '<th scope="row">Dr. Diaz</th>' in page
        assert 'href="/admin/schedule/?date=2026-12-09">Wed Dec 9</a>' in page
        assert '<a href="/admin/schedule/?date=2026-12-07" aria-current="date">Mon Dec 7</a>' in page
        rows = re.findall(r"<tr>\s*<th scope=\"row\">(.*?)</th>(.*?)</tr>", page, re.S)
        cells = {name: re.findall(r"<td[^>]*>(.*?)</td>", row, re.S) for name, row in rows}
        assert "Monday Chen" in cells["Dr. Chen"][0]
        assert "Sunday Diaz" in cells["Dr. Diaz"][6]
        assert "Time off all day: Leave" in text(cells["Dr. Diaz"][2])
        assert "9:00 AM EST" in text(cells["Dr. Chen"][0])
        nav = re.search(r'<nav class="schedule-nav".*?</nav>', page, re.S).group(0)
        assert 'href="/admin/schedule/week/?date=2026-11-30" rel="prev">Previous week' in nav
        assert 'href="/admin/schedule/week/?date=2026-12-14" rel="next">Next week' in nav
        assert 'href="/admin/schedule/?date=2026-12-09">Day view' in nav

    def test_the_week_of_one_clinician(self, front_desk):
        chen, diaz = ClinicianFactory(name="Dr. Chen"), ClinicianFactory(name="Dr. Diaz")
        visit(chen, clinic_time(8, 9), name="Chen Patient")
        visit(diaz, clinic_time(8, 9), name="Diaz Patient")
        page = front_desk.get(WEEK_URL, {"date": "2026-12-08", "clinician": chen.pk}).content.decode()
        assert "Chen Patient" in page and "Diaz Patient" not in page
        assert '<th scope="row">Dr. Diaz</th>' not in page

    def test_a_week_across_the_change_of_clock_puts_each_visit_on_its_clinic_day(self, front_desk):
        chen, other = ClinicianFactory(name="Dr. Chen"), ClinicianFactory(name="Dr. Other")
        visit(chen, datetime.datetime(2026, 11, 2, 4, 45, tzinfo=datetime.UTC), name="Late Sunday")  # Sun 23:45 EST
        visit(other, datetime.datetime(2026, 11, 2, 5, 15, tzinfo=datetime.UTC), name="Early Monday")  # Mon 00:15 EST
        page = front_desk.get(WEEK_URL, {"date": "2026-10-28"}).content.decode()  # Mon 26 Oct – Sun 1 Nov
        assert "Late Sunday" in page and "Early Monday" not in page


ROLE_STATUS = [(None, 302), ("no role", 403), ("Front desk", 200), ("Clinician", 200), ("Manager", 200)]


@pytest.mark.parametrize("url", [DAY_URL, WEEK_URL], ids=["day", "week"])
@pytest.mark.parametrize(("role", "status"), ROLE_STATUS, ids=[str(role) for role, _s in ROLE_STATUS])
def test_who_may_open_the_schedule(client, url, role, status):
    if role == "no role":
        staff_sign_in(client, StaffUserFactory())
    elif role:
        staff_sign_in(client, staff_with_role(role))
    response = client.get(url, {"date": "2026-12-08"})
    assert response.status_code == status
    if status == 302:
        assert response["Location"].startswith("/admin/login/?next=")


def test_a_staff_member_who_has_not_given_the_second_factor_is_sent_to_sign_in(client):
    client.force_login(staff_with_role("Front desk"))
    response = client.get(DAY_URL)
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")


def _more_visits(count: int, *, days: int) -> None:
    """`count` more visits spread over 4 clinicians and `days` days, each with a screening, a
    preparation reminder and a plan to read: everything a badge looks at."""
    quick, _created = AppointmentType.objects.get_or_create(
        slug="quick",
        defaults={"name": "Quick visit", "mode": "in_person", "duration_minutes": 5, "needs_approval": True,
                  "ride_home_required": True},
    )  # fmt: skip
    clinicians = list(Clinician.objects.order_by("pk")) if not _created else [ClinicianFactory() for _n in range(4)]
    existing = Appointment.objects.count()
    for n in range(existing, existing + count):
        clinician, day, slot = clinicians[n % 4], (n // 4) % days, n // (4 * days)
        start = datetime.datetime(2026, 12, 8 + day, 9, tzinfo=CLINIC) + datetime.timedelta(minutes=5 * slot)
        booked = visit(clinician, start, slug=quick, screening=screening(urgent=n % 2 == 0))
        preparation_reminder(booked)
        TreatmentPlan.objects.create(
            patient=booked.patient, appointment_type=quick, sessions=6, approved_at=timezone.now()
        )


def _queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


@pytest.mark.parametrize(
    ("url", "days"),
    [(f"{DAY_URL}?date=2026-12-08", 1), (f"{WEEK_URL}?date=2026-12-08", 6)],
    ids=["day", "week"],
)
def test_the_schedule_reads_the_same_number_of_queries_at_10_and_200_visits(
    client, django_assert_num_queries, url, days
):
    staff_sign_in(client, staff_with_role("Front desk"))
    _more_visits(10, days=days)
    client.get(url)  # the session's first request settles what it keeps
    with django_assert_num_queries(at_ten := _queries(client, url)):
        page = client.get(url).content.decode()
    assert page.count('<article class="visit-card') == 10
    _more_visits(190, days=days)
    with django_assert_num_queries(at_ten):
        page = client.get(url).content.decode()
    assert page.count('<article class="visit-card') == 200
    assert at_ten <= 12
