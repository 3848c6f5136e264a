"""A treatment plan's remaining sessions booked at once: every one or none, through the service,
under a race on PostgreSQL, and as the patient's browser goes through the pages."""

import re
import threading
from datetime import timedelta

import pytest
from django.utils import timezone

from booking import selectors, services
from booking.models import Appointment, AppointmentType
from booking.views import choice_value, parse_choice
from reminders.models import Reminder, ReminderKind
from tests.booking.conftest import NOW
from tests.booking.test_booking import book, details
from tests.factories import ClinicianFactory, treatment_patient
from tests.threads import run_at_once

pytestmark = pytest.mark.usefixtures("frozen_now")


def infusion() -> AppointmentType:
    return AppointmentType.objects.get(slug="iv-infusion")


def planned(n: int = 1, *, sessions: int = 6, hours: int = 48):
    """A patient (details(n)) and their approved IV plan."""
    patient = treatment_patient(details(n), "iv-infusion", sessions=sessions, min_hours_between=hours)
    return patient, patient.treatment_plans.get()


def proposed(plan, count: int, *, clinician_id=None, after=NOW):
    """The engine's series from the first free infusion time after `after`."""
    first = selectors.open_slots(
        appointment_type=infusion(), window_start=after, window_end=after + timedelta(days=7), now=timezone.now()
    )[0]
    return selectors.series_proposal(plan=plan, first=(clinician_id, first.start), count=count, now=timezone.now())


def book_series(plan, picks, patient, *, key="series-1", n=1):
    return services.appointment_series_book(
        plan=plan,
        picks=picks,
        details=details(n),
        time_zone="America/New_York",
        request_key=key,
        proven_patient=patient,
    )


@pytest.fixture
def clinician(db):
    return ClinicianFactory(name="Dr. Sam Ortiz", offers=["iv-infusion", "consultation"])


@pytest.mark.django_db
class TestSeriesService:
    def test_books_every_session_with_reminders_and_the_plan_counts_down(self, clinician):
        patient, plan = planned()
        picks = proposed(plan, 4)
        visits = book_series(plan, picks, patient)
        assert [visit.start for visit in visits] == [start for _c, start in picks]
        assert all(visit.treatment_plan_id == plan.pk and visit.clinician_id == clinician.pk for visit in visits)
        assert all(b.start - a.start >= timedelta(hours=48) for a, b in zip(visits, visits[1:], strict=False))
        kinds = set(Reminder.objects.filter(appointment=visits[3]).values_list("kind", flat=True))
        assert {ReminderKind.CONFIRMATION, ReminderKind.PREPARATION} <= kinds
        assert Reminder.objects.filter(appointment__in=visits, kind=ReminderKind.CONFIRMATION).count() == 4
        assert selectors.plan_sessions_left(plan) == 2
        assert services.series_request_keys("series-1", 2) == [visits[0].request_key, visits[1].request_key]

    def test_the_proposal_keeps_the_same_clinician_and_any_stays_any(self, clinician):
        other = ClinicianFactory(offers=["iv-infusion"])
        _patient, plan = planned()
        assert {c for c, _s in proposed(plan, 6, clinician_id=other.pk)} == {other.pk}
        assert {c for c, _s in proposed(plan, 6)} == {None}

    def test_refused_beyond_the_plan_and_nothing_is_booked(self, clinician):
        patient, plan = planned(sessions=6)
        picks = proposed(plan, 7)
        assert len(picks) == 7  # the engine proposes what it is asked; the service holds the plan
        with pytest.raises(services.PlanRefused, match="6 sessions left"):
            book_series(plan, picks, patient)
        assert Appointment.objects.count() == 0
        book_series(plan, picks[:2], patient, key="first-two")
        with pytest.raises(services.PlanRefused, match="4 sessions left"):
            book_series(plan, picks[2:], patient)
        assert Appointment.objects.count() == 2

    def test_refused_closer_than_the_plans_spacing_to_each_other_or_to_a_booked_session(self, clinician):
        patient, plan = planned(hours=48)
        picks = proposed(plan, 3)
        squeezed = [picks[0], (None, picks[0][1] + timedelta(hours=24)), picks[2]]
        with pytest.raises(services.PlanRefused, match="Sessions 1 and 2 are closer than the 48 hours"):
            book_series(plan, squeezed, patient)
        book_series(plan, picks[:1], patient, key="one")
        with pytest.raises(services.PlanRefused, match="at least 48 hours between sessions"):
            book_series(plan, [(None, picks[0][1] + timedelta(hours=47)), picks[2]], patient, key="two")
        assert Appointment.objects.count() == 1

    def test_the_same_request_key_twice_books_once(self, clinician):
        patient, plan = planned()
        picks = proposed(plan, 6)
        first = book_series(plan, picks, patient)
        again = book_series(plan, picks, patient)
        assert [visit.pk for visit in again] == [visit.pk for visit in first]
        assert Appointment.objects.count() == 6 and selectors.plan_sessions_left(plan) == 0

    def test_only_for_the_patient_whose_link_this_is(self, clinician):
        patient, plan = planned()
        with pytest.raises(services.PlanRefused, match="link in your plan's e-mail"):
            book_series(plan, proposed(plan, 2), None)
        with pytest.raises(services.PlanRefused, match="link in your plan's e-mail"):
            book_series(plan, proposed(plan, 2), patient, n=2)  # someone else's e-mail typed
        assert Appointment.objects.count() == 0

    def test_a_time_taken_beforehand_names_its_session_with_free_times_near_it(self, clinician):
        patient, plan = planned()
        picks = proposed(plan, 6)
        book(clinician, picks[3][1], key="someone-else", n=2, slug="consultation")
        with pytest.raises(services.SeriesSlotTaken) as taken:
            book_series(plan, picks, patient)
        assert taken.value.number == 4 and "session 4" in str(taken.value)
        assert taken.value.nearby and all(slot.start != picks[3][1] for slot in taken.value.nearby)
        assert Appointment.objects.filter(treatment_plan=plan).count() == 0
        assert Reminder.objects.filter(appointment__treatment_plan=plan).count() == 0


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
class TestSeriesUnderConcurrency:
    def test_another_client_takes_session_4_mid_way_and_the_series_books_nothing(self, clinician, monkeypatch):
        """Sessions 1-3 are written (uncommitted) when another patient books session 4's time and
        commits; the series' own insert of session 4 then meets the exclusion constraint."""
        patient, plan = planned()
        picks = proposed(plan, 6)
        written, others = [], []
        real_visit_times = services.visit_times

        def other_client_books() -> None:
            try:
                others.append(book(clinician, picks[3][1], key="other-client", n=2, slug="consultation"))
            finally:
                from django.db import connections

                connections.close_all()

        def visit_times(appointment_type, start):
            written.append(start)
            if len(written) == 4:  # after session 4 was found free, before it is written
                thread = threading.Thread(target=other_client_books)
                thread.start()
                thread.join()
            return real_visit_times(appointment_type, start)

        monkeypatch.setattr(services, "visit_times", visit_times)
        with pytest.raises(services.SeriesSlotTaken) as taken:
            book_series(plan, picks, patient)
        assert [visit.request_key for visit in others] == ["other-client"]  # the other client's booking stands
        assert taken.value.number == 4
        assert taken.value.nearby and picks[3][1] not in {slot.start for slot in taken.value.nearby}
        assert Appointment.objects.filter(treatment_plan=plan).count() == 0
        assert Reminder.objects.filter(appointment__treatment_plan=plan).count() == 0
        assert selectors.plan_sessions_left(plan) == 6

    def test_two_patients_racing_for_the_same_series_one_books_all_the_other_none(self, clinician):
        racers = [planned(n) for n in (1, 2)]
        picks = proposed(racers[0][1], 6)
        results: list = []
        turn = iter(range(2))

        def attempt() -> None:
            n = next(turn)
            patient, plan = racers[n]
            try:
                results.append(book_series(plan, picks, patient, key=f"race-{n}", n=n + 1))
            except services.SeriesSlotTaken as taken:
                results.append(taken)

        run_at_once(attempt, 2)
        booked = [result for result in results if isinstance(result, list)]
        lost = [result for result in results if isinstance(result, services.SeriesSlotTaken)]
        assert len(booked) == 1 and len(booked[0]) == 6 and len(lost) == 1
        assert lost[0].number == 1
        assert Appointment.objects.count() == 6
        assert {visit.patient_id for visit in Appointment.objects.all()} == {booked[0][0].patient_id}


# --- Through the pages -------------------------------------------------------------------------


def slot_values(html: str) -> list[str]:
    return re.findall(r'name="slot" value="([^"]+)"', html)


def first_day_with_times(client, path: str) -> str:
    page = client.get(path).content.decode()
    day = re.search(r"day=(\d{4}-\d{2}-\d{2})#times", page).group(1)
    return client.get(f"{path}?day={day}").content.decode()


@pytest.fixture
def patient_client(client, clinician, celery_eager):
    """The patient's browser, holding their booking link, with a 6-session IV plan (48 h apart)."""
    patient, plan = planned()
    client.get(f"/book/?patient={patient.booking_token}")
    client.plan = plan
    return client


def review_key(html: str) -> str:
    return re.search(r'name="request_key" value="([^"]+)"', html).group(1)


DETAILS = {"full_name": "Patient 1", "email": "patient1@example.org", "phone": "5550100100"}


@pytest.mark.django_db
class TestSeriesPages:
    def test_the_offer_and_countdown_on_the_booking_pages(self, patient_client):
        html = patient_client.get("/book/").content.decode()
        assert "6 of 6 sessions left to book" in html
        assert 'href="/book/iv-infusion/series/"' in html and "Book all 6 remaining sessions at once" in html
        assert "Book all 6 remaining sessions at once" in patient_client.get("/book/iv-infusion/").content.decode()

    def test_without_a_plan_there_is_no_series(self, client, clinician):
        assert client.get("/book/iv-infusion/series/").status_code == 403
        assert client.get("/book/consultation/series/").status_code == 403
        assert "Book all" not in client.get("/book/").content.decode()

    def test_book_six_sessions_changing_session_3(self, patient_client):
        picker = first_day_with_times(patient_client, "/book/iv-infusion/series/")
        assert "Session 1 of 6: choose a time" in picker
        response = patient_client.post("/book/iv-infusion/series/", {"slot": slot_values(picker)[0]})
        assert response.status_code == 302 and response["Location"] == "/book/iv-infusion/series/review/"
        review = patient_client.get(response["Location"]).content.decode()
        assert review.count('<h3 class="h6 mb-1">Session ') == 6
        assert "6 of 6 sessions left to book" in review and "Book all 6 sessions" in review
        assert "(Eastern Time" in review and "Dr. Sam Ortiz" not in review  # any clinician, as picked
        assert 'value="Patient 1"' in review  # the plan's patient, known from the link
        starts = [start for _c, start in patient_client.session["booking_series"]["picks"]]
        change = re.search(r'href="(/book/iv-infusion/series/session/3/[^"]*)"', review).group(1)
        assert change.startswith("/book/iv-infusion/series/session/3/?from=")

        # Too close to session 2, or before it: refused kindly, the series unchanged.
        session_2 = parse_choice(f"{starts[1]}|any")[0]
        for when, message in (
            (session_2 + timedelta(hours=24), "too close to your session on"),
            (parse_choice(f"{starts[0]}|any")[0], "too close to your session on"),
        ):
            page = patient_client.post("/book/iv-infusion/series/session/3/", {"slot": choice_value(when, None)})
            assert page.status_code == 200 and message in page.content.decode()
        assert [s for _c, s in patient_client.session["booking_series"]["picks"]] == starts

        # Session 6 a day later: only it changes.
        later_6 = parse_choice(f"{starts[5]}|any")[0] + timedelta(days=1)
        moved = patient_client.post("/book/iv-infusion/series/session/6/", {"slot": choice_value(later_6, None)})
        assert moved["Location"] == "/book/iv-infusion/series/review/?changed=6"
        assert [s for _c, s in patient_client.session["booking_series"]["picks"]] == [*starts[:5], later_6.isoformat()]

        # Session 3 a day later: sessions 4 to 6 follow, each 48 hours on at the earliest.
        change_page = patient_client.get(change).content.decode()
        assert "Session 3 of 6: choose a time" in change_page and "Back to your sessions" in change_page
        assert "we move them on to keep the spacing" in change_page
        new_3 = parse_choice(f"{starts[2]}|any")[0] + timedelta(days=1)
        moved = patient_client.post("/book/iv-infusion/series/session/3/", {"slot": choice_value(new_3, None)})
        assert moved["Location"] == "/book/iv-infusion/series/review/?changed=3&moved=1"
        picks = [parse_choice(f"{s}|any")[0] for _c, s in patient_client.session["booking_series"]["picks"]]
        assert picks[:3] == [*(parse_choice(f"{s}|any")[0] for s in starts[:2]), new_3]
        assert len(picks) == 6 and all(b - a >= timedelta(hours=48) for a, b in zip(picks, picks[1:], strict=False))
        assert picks[3] - new_3 < timedelta(hours=72)  # the earliest after the spacing, not left where it was
        review = patient_client.get(moved["Location"]).content.decode()
        assert "Session 3 has its new time, and the sessions after it moved on" in review

        booked = patient_client.post("/book/iv-infusion/series/review/", {**DETAILS, "request_key": review_key(review)})
        assert booked.status_code == 302 and booked["Location"] == "/book/iv-infusion/series/booked/"
        visits = list(Appointment.objects.order_by("start"))
        assert [visit.start for visit in visits] == picks
        done = patient_client.get(booked["Location"]).content.decode()
        assert "booked: 6 sessions" in done
        assert all(f"/appointments/{visit.token}/" in done for visit in visits)
        assert "booking_series" not in patient_client.session
        assert selectors.plan_sessions_left(patient_client.plan) == 0
        assert "You have booked every session" in patient_client.get("/book/iv-infusion/series/").content.decode()

    def test_a_double_submit_books_once(self, patient_client):
        picker = first_day_with_times(patient_client, "/book/iv-infusion/series/")
        patient_client.post("/book/iv-infusion/series/", {"slot": slot_values(picker)[0]})
        key = review_key(patient_client.get("/book/iv-infusion/series/review/").content.decode())
        first = patient_client.post("/book/iv-infusion/series/review/", {**DETAILS, "request_key": key})
        again = patient_client.post("/book/iv-infusion/series/review/", {**DETAILS, "request_key": key})
        assert first["Location"] == again["Location"] == "/book/iv-infusion/series/booked/"
        assert Appointment.objects.count() == 6

    def test_a_session_taken_meanwhile_is_named_with_times_near_it_and_nothing_typed_is_lost(
        self, patient_client, clinician
    ):
        picker = first_day_with_times(patient_client, "/book/iv-infusion/series/")
        patient_client.post("/book/iv-infusion/series/", {"slot": slot_values(picker)[0]})
        review = patient_client.get("/book/iv-infusion/series/review/").content.decode()
        picks = patient_client.session["booking_series"]["picks"]
        book(clinician, parse_choice(f"{picks[3][1]}|any")[0], key="someone-else", n=2)
        typed = {**DETAILS, "phone": "(555) 010-0177"}
        response = patient_client.post("/book/iv-infusion/series/review/", {**typed, "request_key": review_key(review)})
        html = response.content.decode()
        assert response.status_code == 409
        assert "the time for session 4 was just taken, so nothing is booked yet" in html
        assert "Free times near session 4" in html and 'action="/book/iv-infusion/series/session/4/"' in html
        assert 'value="Patient 1"' in html and "0177" in html  # the form as typed
        assert Appointment.objects.filter(treatment_plan=patient_client.plan).count() == 0
        alternative = slot_values(html.split("Free times near session 4")[1])[0]
        moved = patient_client.post("/book/iv-infusion/series/session/4/", {"slot": alternative})
        assert moved["Location"].startswith("/book/iv-infusion/series/review/?changed=4")
        review = patient_client.get(moved["Location"]).content.decode()
        assert "0177" in review  # the details typed, kept for the next try
        booked = patient_client.post("/book/iv-infusion/series/review/", {**typed, "request_key": review_key(review)})
        assert booked["Location"] == "/book/iv-infusion/series/booked/"
        assert Appointment.objects.filter(treatment_plan=patient_client.plan).count() == 6

    @pytest.mark.parametrize(
        "slot",
        [
            "",
            "nonsense",
            "2026-12-09T09:00:00-05:00|\x00",
            "0001-01-01T00:00:00+00:00|any",
            "9999-12-31T23:59:59+00:00|any",
            "2026-12-09T09:00:00-05:00|99999999999999999999999999",
            "2026-12-09T09:00:00|any",  # no offset
            "2027-06-01T09:00:00-04:00|any",  # beyond the 60-day horizon
            "2026-12-09T09:07:00-05:00|any",  # not a slot
            "x" * 5000,
        ],
    )
    def test_bad_picks_get_a_kind_message_never_a_500(self, patient_client, slot):
        response = patient_client.post("/book/iv-infusion/series/", {"slot": slot})
        assert response.status_code in (200, 400)
        html = response.content.decode()
        assert "Please choose a time." in html or "that time is not free" in html
        assert "booking_series" not in patient_client.session

    def test_bad_session_numbers_and_details(self, patient_client):
        picker = first_day_with_times(patient_client, "/book/iv-infusion/series/")
        patient_client.post("/book/iv-infusion/series/", {"slot": slot_values(picker)[0]})
        assert patient_client.get("/book/iv-infusion/series/session/0/")["Location"].endswith("/series/review/")
        assert patient_client.get("/book/iv-infusion/series/session/7/")["Location"].endswith("/series/review/")
        huge = "9" * 40
        assert patient_client.get(f"/book/iv-infusion/series/session/{huge}/").status_code == 302
        assert patient_client.post("/book/iv-infusion/series/session/2/", {"slot": "\x00"}).status_code == 400
        response = patient_client.post(
            "/book/iv-infusion/series/review/",
            {"full_name": "Pat\x00ient", "email": "patient1@example.org", "phone": "5" * 5000, "request_key": "\x00"},
        )
        assert response.status_code == 200 and "Please correct" in response.content.decode()
        assert "patient1@example.org" in response.content.decode()  # what was typed stays
        assert Appointment.objects.count() == 0

    def test_the_review_without_a_chosen_series_goes_back_to_the_first_step(self, patient_client):
        assert patient_client.get("/book/iv-infusion/series/review/")["Location"] == "/book/iv-infusion/series/"
        assert patient_client.get("/book/iv-infusion/series/session/2/")["Location"] == "/book/iv-infusion/series/"
        assert patient_client.get("/book/iv-infusion/series/booked/")["Location"] == "/book/"

    def test_the_booking_is_rate_limited_as_the_one_visit_booking(self, patient_client, settings):
        settings.RATELIMIT_ENABLE = True
        settings.RATE_LIMITS = {**settings.RATE_LIMITS, "booking": "1/h"}
        picker = first_day_with_times(patient_client, "/book/iv-infusion/series/")
        patient_client.post("/book/iv-infusion/series/", {"slot": slot_values(picker)[0]})
        review = patient_client.get("/book/iv-infusion/series/review/").content.decode()
        patient_client.post("/book/iv-infusion/series/review/", {**DETAILS, "request_key": "a" * 16})  # counted
        Appointment.objects.all().delete()
        patient_client.post("/book/iv-infusion/series/", {"slot": slot_values(picker)[0]})
        limited = patient_client.post(
            "/book/iv-infusion/series/review/", {**DETAILS, "request_key": review_key(review)}
        )
        assert limited.status_code == 429
        assert Appointment.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize("sessions", [2, 12])
def test_the_series_pages_query_the_same_whatever_the_number_of_sessions(
    client, clinician, django_assert_num_queries, sessions
):
    patient, _plan = planned(sessions=sessions, hours=24)
    client.get(f"/book/?patient={patient.booking_token}")
    picker = first_day_with_times(client, "/book/iv-infusion/series/")
    # The type, the session, the patient and their plan, the pick's busy times, then the horizon's, in one query each
    with django_assert_num_queries(12):
        assert client.post("/book/iv-infusion/series/", {"slot": slot_values(picker)[0]}).status_code == 302
    assert len(client.session["booking_series"]["picks"]) == sessions
    with django_assert_num_queries(5):
        assert client.get("/book/iv-infusion/series/review/").status_code == 200


@pytest.mark.django_db
def test_a_series_longer_than_the_horizon_books_what_fits_and_says_so(client, clinician, celery_eager):
    patient, plan = planned(sessions=6, hours=24 * 14)  # two weeks apart: 70 days, the horizon is 60
    client.get(f"/book/?patient={patient.booking_token}")
    picker = first_day_with_times(client, "/book/iv-infusion/series/")
    client.post("/book/iv-infusion/series/", {"slot": slot_values(picker)[0]})
    review = client.get("/book/iv-infusion/series/review/").content.decode()
    assert "Only 5 of your 6 sessions fit before" in review and "Book all 5 sessions" in review
    booked = client.post("/book/iv-infusion/series/review/", {**DETAILS, "request_key": review_key(review)})
    assert booked["Location"] == "/book/iv-infusion/series/booked/"
    assert selectors.plan_sessions_left(plan) == 1
    assert "1 of 6 sessions left to book" in client.get("/book/").content.decode()
