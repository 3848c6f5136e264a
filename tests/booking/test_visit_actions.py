"""Staff's visit actions: check in, complete, no-show (one or many), cancel with a reason, move,
and the outside-hours confirmation of a staff move or booking. Each action's effect on the visit,
its reminders and the patient's e-mails; what is refused; who may; bad input."""

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from auditlog.models import LogEntry
from django.core import mail
from django.test import TestCase

from booking import services, slots
from booking.models import Appointment, TimeOff
from reminders import services as reminder_services
from reminders.models import Reminder
from reminders.services import reminders_sync
from tests.booking.test_schedule import visit as visit_as_booked
from tests.factories import ClinicianFactory, StaffUserFactory, staff_sign_in, staff_with_role

CLINIC = ZoneInfo("America/New_York")
BOOKED_AT = datetime(2026, 12, 1, 8, 0, tzinfo=CLINIC)


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """An instant in December 2026, clinic wall clock (Tuesday the 8th is the visits' day)."""
    return datetime(2026, 12, day, hour, minute, tzinfo=CLINIC)


# --- The pure check of one time against a clinician's day --------------------------------------

RULES = slots.SlotRules(
    duration=timedelta(minutes=40),
    step=timedelta(minutes=15),
    buffer_before=timedelta(minutes=15),
    recovery=timedelta(minutes=60),
    buffer_after=timedelta(minutes=15),
)
HOURS = [slots.WorkingBlock(1, time(9), time(12)), slots.WorkingBlock(1, time(13), time(17))]  # Tuesdays


def place(start, *, hours=HOURS, time_off=(), busy=()):
    return slots.visit_placement(
        start=start, rules=RULES, clinic_tz=CLINIC, working_hours=hours, time_off=time_off, busy=busy
    )


def interval(start, end) -> slots.Interval:
    return slots.Interval(start, end)


class TestPlacement:
    def test_a_time_inside_hours_and_free_is_open_off_the_step_grid_too(self):
        placement = place(at(8, 10, 5))
        assert placement.problems == () and not placement.clash
        assert placement.held == interval(at(8, 9, 50), at(8, 12, 0))  # 15 before, 40 + 60 + 15 after

    @pytest.mark.parametrize(
        "start",
        [
            pytest.param(at(8, 21), id="9 PM"),
            pytest.param(at(8, 11, 0), id="recovery runs into the lunch break"),
            pytest.param(at(8, 8, 30), id="before the day starts"),
            pytest.param(at(9, 10), id="a Wednesday: not a working day"),
        ],
    )
    def test_outside_working_hours(self, start):
        assert place(start).problems == (slots.OUTSIDE_WORKING_HOURS,)

    def test_blocks_that_touch_count_as_one(self):
        joined = [slots.WorkingBlock(1, time(9), time(12)), slots.WorkingBlock(1, time(12), time(17))]
        assert place(at(8, 11), hours=joined).problems == ()

    def test_time_off_reached_by_a_buffer(self):
        off = [interval(at(8, 12, 0), at(8, 17))]
        assert place(at(8, 10, 0), time_off=off).problems == ()  # held until 12:00: touching is not overlap
        assert place(at(8, 10, 10), time_off=off).problems == (slots.DURING_TIME_OFF,)  # held until 12:05

    def test_over_a_neighbours_held_time_the_visit_holds_only_what_is_left(self):
        before, after = interval(at(8, 9, 0), at(8, 10, 0)), interval(at(8, 11, 50), at(8, 12, 0))
        placement = place(at(8, 10, 5), busy=[before, after])
        assert placement.problems == (slots.OVER_A_BUFFER,) and not placement.clash
        assert placement.held == interval(at(8, 10, 0), at(8, 11, 50))  # still covers the visit 10:05–10:45

    def test_a_visit_inside_another_visits_held_time_is_a_clash(self):
        assert place(at(8, 10), busy=[interval(at(8, 10, 30), at(8, 11))]).clash
        assert not place(at(8, 10), busy=[interval(at(8, 10, 40), at(8, 11))]).clash  # touching the end

    def test_every_reason_at_once_in_a_fixed_order(self):
        placement = place(
            at(8, 21), time_off=[interval(at(8, 20), at(8, 23))], busy=[interval(at(8, 22, 30), at(8, 23))]
        )
        assert placement.problems == (slots.OUTSIDE_WORKING_HOURS, slots.DURING_TIME_OFF, slots.OVER_A_BUFFER)


# --- Visits, their reminders and e-mails -------------------------------------------------------

pytestmark = pytest.mark.usefixtures("celery_eager")


@pytest.fixture
def run_commits(django_capture_on_commit_callbacks):
    """Runs what the transaction queues on commit (the reminders' sends), as a commit would."""

    def run(action, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return action(*args, **kwargs)

    return run


@pytest.fixture
def clinician(db):
    return ClinicianFactory(name="Dr. Chen", offers=["iv-infusion", "consultation"])


@pytest.fixture
def book_visit(run_commits):
    """A visit booked a week ahead (BOOKED_AT), its reminders made and its confirmation sent."""

    def book(clinician, start, slug="iv-infusion", **fields):
        def create():
            booked = visit_as_booked(clinician, start, slug=slug, **fields)
            reminders_sync(appointment=booked, now=BOOKED_AT)
            return booked

        with time_machine.travel(BOOKED_AT, tick=False):
            return run_commits(create)

    return book


def statuses(visit) -> dict[str, str]:
    return dict(Reminder.objects.filter(appointment=visit).values_list("kind", "status"))


def subjects(visit=None) -> list[str]:
    """The e-mails' subjects (to this visit's patient)."""
    return [m.subject for m in mail.outbox if visit is None or m.to == [visit.patient.email]]


def send_due(moment: datetime) -> list[str]:
    """One dispatch pass at `moment`, run as it commits; the subjects of what was sent."""
    before = len(mail.outbox)
    with time_machine.travel(moment, tick=False), TestCase.captureOnCommitCallbacks(execute=True):
        reminder_services.reminders_dispatch()
    return [message.subject for message in mail.outbox[before:]]


def refresh(visit) -> Appointment:
    return Appointment.objects.get(pk=visit.pk)


@pytest.fixture
def desk(db):
    return staff_with_role("Front desk")


CONFIRMED = "Your appointment is confirmed"
MOVED = "Your appointment has moved"
CANCELLED = "Your appointment is cancelled"
FOLLOW_UP = "How are you doing today?"


@pytest.mark.django_db
class TestCheckIn:
    def test_on_the_day_it_records_the_arrival_once_and_the_trail_says_who(self, clinician, book_visit, desk):
        visit = book_visit(clinician, at(8, 10))
        with time_machine.travel(at(8, 9, 40), tick=False):
            services.appointment_check_in(appointment=visit, by=desk)
        with time_machine.travel(at(8, 9, 55), tick=False):
            services.appointment_check_in(appointment=visit, by=desk)  # a second click keeps the first time
        assert refresh(visit).checked_in_at == at(8, 9, 40)
        entry = LogEntry.objects.get_for_object(visit).filter(changes__has_key="checked_in_at").get()
        assert entry.actor == desk

    @pytest.mark.parametrize(
        "moment",
        [pytest.param(at(7, 16), id="the day before"), pytest.param(at(9, 0, 1), id="the day after")],
    )
    def test_not_on_another_day(self, clinician, book_visit, desk, moment):
        visit = book_visit(clinician, at(8, 10))
        with time_machine.travel(moment, tick=False), pytest.raises(services.VisitActionRefused, match="day of"):
            services.appointment_check_in(appointment=visit, by=desk)
        assert refresh(visit).checked_in_at is None

    def test_not_a_cancelled_visit(self, clinician, book_visit, desk):
        visit = book_visit(clinician, at(8, 10), status=Appointment.Status.CANCELLED)
        with time_machine.travel(at(8, 9), tick=False), pytest.raises(services.VisitActionRefused, match="cancelled"):
            services.appointment_check_in(appointment=visit, by=desk)


@pytest.mark.django_db
class TestCompleteAndNoShow:
    def test_completed_stops_the_reminders_before_the_visit_and_keeps_the_follow_up(
        self, clinician, book_visit, desk, run_commits
    ):
        visit = book_visit(clinician, at(8, 10))
        with time_machine.travel(at(8, 10, 50), tick=False):
            run_commits(services.appointment_complete, appointment=visit, by=desk)
        assert refresh(visit).status == Appointment.Status.COMPLETED
        assert statuses(visit) == {
            "confirmation": "sent",
            "preparation": "cancelled",  # never dispatched in this test: cancelled, not sent late
            "day_before": "cancelled",
            "follow_up": "pending",
        }
        assert send_due(at(9, 10, 1)) == [FOLLOW_UP]
        assert (
            LogEntry.objects.get_for_object(visit).filter(changes__status=["confirmed", "completed"]).get().actor
            == desk
        )

    def test_no_show_stops_every_reminder(self, clinician, book_visit, desk, run_commits):
        visit = book_visit(clinician, at(8, 10))
        with time_machine.travel(at(8, 10, 20), tick=False):
            run_commits(services.appointment_no_show, appointment=visit, by=desk)
        assert refresh(visit).status == Appointment.Status.NO_SHOW
        assert set(statuses(visit).values()) == {"sent", "cancelled"}
        assert statuses(visit)["follow_up"] == "cancelled"
        assert send_due(at(9, 10, 1)) == []

    @pytest.mark.parametrize("service", [services.appointment_complete, services.appointment_no_show])
    def test_not_before_the_visit_has_started(self, clinician, book_visit, desk, service):
        visit = book_visit(clinician, at(8, 10))
        before = statuses(visit)
        with time_machine.travel(at(8, 9, 59), tick=False):
            with pytest.raises(services.VisitActionRefused, match="not started yet"):
                service(appointment=visit, by=desk)
        assert refresh(visit).status == Appointment.Status.CONFIRMED and statuses(visit) == before

    @pytest.mark.parametrize("service", [services.appointment_complete, services.appointment_no_show])
    def test_not_a_cancelled_visit(self, clinician, book_visit, desk, service):
        visit = book_visit(clinician, at(8, 10))
        services.appointment_cancel(appointment=visit, by_staff=True, reason="Patient called")
        with time_machine.travel(at(8, 11), tick=False):
            with pytest.raises(services.VisitActionRefused, match="cancelled"):
                service(appointment=visit, by=desk)
        assert refresh(visit).status == Appointment.Status.CANCELLED

    def test_at_the_end_of_the_day_each_visit_that_can_be_is_marked_and_the_rest_counted_out(
        self, clinician, book_visit, desk, run_commits
    ):
        other = ClinicianFactory(offers=["iv-infusion"])
        started = [book_visit(clinician, at(8, 9, 15)), book_visit(other, at(8, 9, 15))]
        later = book_visit(clinician, at(8, 16))
        cancelled = book_visit(clinician, at(8, 13, 15), status=Appointment.Status.CANCELLED)
        visits = Appointment.objects.filter(pk__in=[v.pk for v in [*started, later, cancelled]])
        with time_machine.travel(at(8, 12), tick=False):
            assert run_commits(services.appointments_no_show, appointments=visits, by=desk) == 2
            assert services.appointments_no_show(appointments=visits, by=desk) == 0  # marked already
            assert services.appointments_complete(appointments=visits, by=desk) == 0  # no-show is not completed
        assert [refresh(v).status for v in [*started, later, cancelled]] == [
            "no_show",
            "no_show",
            "confirmed",
            "cancelled",
        ]
        for visit in started:  # one entry each, by whom
            assert (
                LogEntry.objects.get_for_object(visit).filter(changes__status=["confirmed", "no_show"]).get().actor
                == desk
            )


@pytest.mark.django_db
class TestStaffMove:
    def test_inside_hours_it_moves_and_the_patient_is_told(self, clinician, book_visit, desk, run_commits):
        visit = book_visit(clinician, at(8, 10))
        with time_machine.travel(at(7, 8), tick=False):  # inside the online cut-off and the 48 h notice: staff may
            run_commits(
                services.appointment_staff_move, appointment=visit, start=at(8, 14), clinician_id=clinician.pk, by=desk
            )
        moved = refresh(visit)
        assert (moved.start, moved.end, moved.sequence) == (at(8, 14), at(8, 14, 40), 1)
        assert (moved.blocked_start, moved.blocked_end) == (at(8, 13, 45), at(8, 15, 55))
        # The new time, then what is due by now for it (the preparation, 48 hours before).
        assert subjects() == [CONFIRMED, MOVED, "Getting ready for your appointment on Tuesday, December 8"]
        assert "2:00 PM" in mail.outbox[1].body

    @pytest.mark.parametrize(
        ("start", "setup", "reason"),
        [
            pytest.param(at(8, 21), None, "outside working hours", id="9 PM"),
            pytest.param(at(8, 14), "time off", "during time off", id="time off"),
            pytest.param(at(8, 14), "neighbour", "over another visit's buffer", id="buffer"),
        ],
    )
    def test_outside_open_slots_nothing_happens_without_a_yes_and_with_it_the_move_is_made(
        self, clinician, book_visit, desk, run_commits, start, setup, reason
    ):
        visit = book_visit(clinician, at(8, 10))
        if setup == "time off":
            TimeOff.objects.create(clinician=clinician, start=at(8, 15, 30), end=at(8, 17), reason="Training")
        if setup == "neighbour":  # a consultation ending at 13:45 (its buffer until 14:00) and one at 15:50
            book_visit(clinician, at(8, 13), slug="consultation")
            book_visit(clinician, at(8, 15, 50), slug="consultation")
        before = (statuses(visit), len(mail.outbox), LogEntry.objects.get_for_object(visit).count())
        move = {"appointment": visit, "start": start, "clinician_id": clinician.pk, "by": desk}
        with time_machine.travel(at(7, 8), tick=False):
            with pytest.raises(services.OutsideHours) as refused:
                run_commits(services.appointment_staff_move, **move)
            assert [str(r) for r in refused.value.reasons] == [reason] and reason in str(refused.value)
            visit = refresh(visit)
            assert (visit.start, visit.sequence) == (at(8, 10), 0)
            assert (statuses(visit), len(mail.outbox), LogEntry.objects.get_for_object(visit).count()) == before
            run_commits(services.appointment_staff_move, **move, outside_hours_confirmed=True)
        moved = refresh(visit)
        assert (moved.start, moved.sequence) == (start, 1)
        assert subjects(visit)[1] == MOVED
        if setup == "neighbour":  # it holds only the time between its neighbours
            assert (moved.blocked_start, moved.blocked_end) == (at(8, 14), at(8, 15, 50))

    def test_never_into_another_visit_even_with_a_yes(self, clinician, book_visit, desk):
        visit = book_visit(clinician, at(8, 10))
        book_visit(clinician, at(8, 14), slug="consultation")
        with time_machine.travel(at(7, 8), tick=False), pytest.raises(services.VisitActionRefused, match="overlaps"):
            services.appointment_staff_move(
                appointment=visit, start=at(8, 14, 30), clinician_id=clinician.pk, by=desk, outside_hours_confirmed=True
            )
        assert refresh(visit).start == at(8, 10)

    def test_not_a_cancelled_visit_nor_to_a_time_gone_by(self, clinician, book_visit, desk):
        visit = book_visit(clinician, at(8, 10))
        with time_machine.travel(at(8, 11), tick=False), pytest.raises(services.VisitActionRefused, match="passed"):
            services.appointment_staff_move(appointment=visit, start=at(8, 10, 30), clinician_id=clinician.pk, by=desk)
        services.appointment_cancel(appointment=visit, by_staff=True, reason="Patient called")
        with time_machine.travel(at(7, 8), tick=False), pytest.raises(services.VisitActionRefused, match="cancelled"):
            services.appointment_staff_move(appointment=visit, start=at(8, 14), clinician_id=clinician.pk, by=desk)


# --- The pages ---------------------------------------------------------------------------------


@pytest.fixture
def clock():
    with time_machine.travel(at(7, 12), tick=False) as traveller:
        yield traveller


@pytest.fixture
def jump(clock, client, desk):
    """The clock at `moment`, the front desk signed in then (a session idle for a day is over)."""

    def to(moment):
        clock.move_to(moment)
        client.logout()
        staff_sign_in(client, desk)

    return to


@pytest.fixture
def staff(client, jump):
    jump(at(7, 12))
    return client


@pytest.fixture
def visit(clinician, book_visit):
    return book_visit(clinician, at(8, 10))


DAY = "/admin/schedule/?date=2026-12-08"


def action_url(visit, action: str) -> str:
    return f"/admin/schedule/visits/{visit.pk}/{action}/"


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]] if response.context else []


@pytest.mark.django_db
class TestActionPages:
    def test_each_button_acts_and_says_what_happened_then_goes_back(self, staff, jump, desk, visit, run_commits):
        jump(at(8, 9, 50))
        response = run_commits(staff.post, action_url(visit, "check_in"), {"next": DAY + "&clinician=1"})
        assert response.status_code == 302 and response["Location"] == DAY + "&clinician=1"
        assert refresh(visit).checked_in_at == at(8, 9, 50)
        entry = LogEntry.objects.get_for_object(visit).get(changes__has_key="checked_in_at")
        assert (entry.actor, entry.remote_addr) == (desk, "127.0.0.1")  # who, and from where
        jump(at(8, 10, 45))
        response = run_commits(staff.post, action_url(visit, "complete"), follow=True)
        assert response.redirect_chain[0][0] == DAY  # no `next`: the visit's day
        expected = (
            f"Visit #{visit.pk} (IV ketamine infusion, Tue Dec 08 2026, 10:00 AM EST, Dr. Chen): marked completed."
        )
        assert expected in messages_of(response)
        assert refresh(visit).status == Appointment.Status.COMPLETED

    def test_a_refusal_is_a_warning_and_changes_nothing(self, staff, jump, visit):
        jump(at(8, 9))
        response = staff.post(action_url(visit, "no_show"), follow=True)
        [message] = response.context["messages"]
        assert message.level_tag == "warning" and "has not started yet" in message.message
        assert refresh(visit).status == Appointment.Status.CONFIRMED

    @pytest.mark.parametrize("next_url", ["https://evil.example.org/", "//evil.example.org/", "/ok\x00/"])
    def test_next_elsewhere_is_ignored(self, staff, jump, visit, next_url):
        jump(at(8, 9, 50))
        response = staff.post(action_url(visit, "check_in"), {"next": next_url})
        assert response["Location"] == DAY

    def test_cancel_asks_for_a_reason_then_tells_the_patient(self, staff, visit, run_commits):
        url = action_url(visit, "cancel")
        page = staff.get(url, {"next": DAY}).content.decode()
        assert visit.patient.full_name in page and "Tue Dec 08 2026, 10:00 AM EST" in page and 'maxlength="500"' in page
        response = staff.post(url, {"reason": "  ", "next": DAY})
        assert response.status_code == 200 and refresh(visit).status == Appointment.Status.CONFIRMED
        html = response.content.decode()
        assert 'href="#id_reason"' in html and 'aria-invalid="true"' in html
        response = staff.post(url, {"reason": "x" * 501})
        assert response.status_code == 200 and "at most 500" in response.content.decode()
        response = run_commits(staff.post, url, {"reason": "The clinician is ill", "next": DAY}, follow=True)
        assert response.redirect_chain[0][0] == DAY
        cancelled = refresh(visit)
        assert (cancelled.status, cancelled.cancel_reason) == (Appointment.Status.CANCELLED, "The clinician is ill")
        assert subjects() == [CONFIRMED, CANCELLED]
        assert "cancelled; the patient is being e-mailed." in " ".join(messages_of(response))
        response = staff.post(url, {"reason": "Again"}, follow=True)  # twice: nothing more
        assert "is cancelled, so nothing was changed" in " ".join(messages_of(response))
        assert subjects() == [CONFIRMED, CANCELLED]

    def test_move_outside_hours_asks_for_a_yes_keeping_what_was_typed(self, staff, visit, run_commits):
        url = action_url(visit, "move")
        other = ClinicianFactory(name="Dr. Okafor", offers=["iv-infusion"])
        ClinicianFactory(name="Dr. Nope", offers=["consultation"])  # does not give infusions: not offered
        typed = {"date": "2026-12-09", "time": "21:00", "clinician": other.pk, "next": DAY}
        page = staff.get(url).content.decode()
        assert 'value="2026-12-08"' in page and "Dr. Okafor" in page and "Dr. Nope" not in page
        assert "Yes, move it outside hours" not in page
        response = staff.post(url, typed)
        html = response.content.decode()
        assert response.status_code == 200 and "outside working hours" in html
        assert 'href="#id_outside_hours_confirmed"' in html and "Yes, move it outside hours" in html
        assert 'value="2026-12-09"' in html and 'value="21:00"' in html
        assert f'<option value="{other.pk}" selected>' in html
        assert refresh(visit).start == at(8, 10) and subjects() == [CONFIRMED]
        response = run_commits(staff.post, url, {**typed, "outside_hours_confirmed": "on"})
        assert response.status_code == 302 and response["Location"] == DAY
        moved = refresh(visit)
        assert (moved.start, moved.clinician_id) == (at(9, 21), other.pk)
        assert subjects()[:2] == [CONFIRMED, MOVED]

    @pytest.mark.parametrize(
        ("field", "value"),
        [
            ("date", "2026-12-09\x00"),
            ("date", "0001-01-01"),
            ("date", "9999-12-31"),
            ("date", "99999999-01-01"),
            ("time", "25:99"),
            ("time", "\x00"),
            ("clinician", "99999999999999999999999999"),
            ("clinician", "9223372036854775808"),
            ("clinician", "\x00"),
        ],
    )
    def test_move_bad_input_is_a_kind_error(self, staff, visit, clinician, field, value):
        data = {"date": "2026-12-09", "time": "10:00", "clinician": clinician.pk, field: value}
        response = staff.post(action_url(visit, "move"), data)
        assert response.status_code == 200
        assert f'href="#id_{field}"' in response.content.decode()
        assert refresh(visit).start == at(8, 10)

    def test_bulk_marks_the_ticked_visits(self, staff, jump, clinician, book_visit, run_commits):
        first, second = book_visit(clinician, at(8, 9, 15)), book_visit(clinician, at(8, 16))
        jump(at(8, 12))
        data = {"visit": [first.pk, second.pk], "action": "complete", "next": DAY}
        response = run_commits(staff.post, "/admin/schedule/visits/bulk/", data, follow=True)
        assert response.redirect_chain[0][0] == DAY
        assert messages_of(response) == [
            "1 visit(s) marked completed.",
            "1 visit(s) left as they were: not started yet, cancelled, or marked already.",
        ]
        assert [refresh(first).status, refresh(second).status] == ["completed", "confirmed"]

    @pytest.mark.parametrize(
        ("data", "status"),
        [
            ({"visit": ["\x00"], "action": "complete"}, 404),
            ({"visit": ["99999999999999999999999"], "action": "complete"}, 404),
            ({"visit": ["123456"], "action": "complete"}, 404),
            ({"visit": ["1"], "action": "delete"}, 400),
        ],
    )
    def test_bulk_bad_input(self, staff, visit, data, status):
        assert staff.post("/admin/schedule/visits/bulk/", data).status_code == status

    def test_unknown_ids_actions_and_methods(self, staff, visit):
        assert staff.get(action_url(visit, "complete")).status_code == 405
        assert staff.post(action_url(visit, "delete")).status_code == 404
        assert staff.post("/admin/schedule/visits/999999/complete/").status_code == 404
        assert staff.post("/admin/schedule/visits/99999999999999999999999/complete/").status_code == 404
        assert staff.get("/admin/schedule/visits/999999/cancel/").status_code == 404
        assert staff.get("/admin/schedule/visits/999999/move/").status_code == 404
        assert staff.get("/admin/schedule/visits/bulk/").status_code == 405


ENDPOINTS = [
    ("post", "check_in", 302),
    ("get", "cancel", 200),
    ("post", "cancel", 302),
    ("get", "move", 200),
    ("post", "bulk", 302),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("method", "endpoint", "allowed"), ENDPOINTS)
@pytest.mark.parametrize("role", [None, "", "Front desk", "Clinician", "Manager"])
def test_who_may_act_on_visits(client, clock, visit, method, endpoint, allowed, role):
    """None: not signed in; "": staff without a role."""
    clock.move_to(at(8, 10, 30))
    if role is not None:
        staff_sign_in(client, staff_with_role(role) if role else StaffUserFactory())
    if endpoint == "bulk":
        url, data = "/admin/schedule/visits/bulk/", {"visit": [visit.pk], "action": "complete"}
    else:
        url, data = action_url(visit, endpoint), {"reason": "Clinic closed"}
    response = getattr(client, method)(url, data)
    expected = {None: 302, "": 403}.get(role, allowed)
    assert response.status_code == expected
    if role is None:
        assert response["Location"].startswith("/admin/login/")
    changed = refresh(visit).status != Appointment.Status.CONFIRMED or refresh(visit).checked_in_at is not None
    assert changed == (role not in (None, "") and method == "post")


# --- The admin's own form: a staff booking or edit outside hours ---------------------------------


def change_data(client, visit, **changes) -> dict:
    """The visit's change form as the admin shows it, with `changes`."""
    form = client.get(f"/admin/booking/appointment/{visit.pk}/change/").context["adminform"].form
    data = {name: form[name].value() for name in form.fields if form[name].value() is not None}
    data.pop("outside_hours_confirmed", None)
    data.update({"reminders-TOTAL_FORMS": "0", "reminders-INITIAL_FORMS": "0", **changes})
    return data


@pytest.mark.django_db
class TestAdminFormConfirmation:
    def test_a_move_to_9_pm_needs_the_yes_and_then_is_saved_and_e_mailed(self, staff, visit, run_commits):
        url = f"/admin/booking/appointment/{visit.pk}/change/"
        page = staff.get(url).content.decode()
        assert 'type="hidden" name="outside_hours_confirmed"' in page  # not asked while the time is open
        data = change_data(staff, visit, start_0="2026-12-08", start_1="21:00:00")
        response = run_commits(staff.post, url, data)
        assert response.status_code == 200
        html = response.content.decode()
        assert "This time is outside working hours." in html
        assert 'type="checkbox" name="outside_hours_confirmed"' in html and "Yes, book outside hours" in html
        assert refresh(visit).start == at(8, 10) and subjects() == [CONFIRMED]
        response = run_commits(staff.post, url, {**data, "outside_hours_confirmed": "on"})
        assert response.status_code == 302
        moved = refresh(visit)
        assert (moved.start, moved.sequence) == (at(8, 21), 1)
        assert subjects()[:2] == [CONFIRMED, MOVED]

    def test_a_visit_over_a_buffer_once_confirmed_holds_the_time_left(self, staff, clinician, book_visit, run_commits):
        neighbour = book_visit(clinician, at(8, 13), slug="consultation")  # held until 14:00
        visit = book_visit(clinician, at(8, 10))
        url = f"/admin/booking/appointment/{visit.pk}/change/"
        data = change_data(staff, visit, start_0="2026-12-08", start_1="14:00:00")
        response = staff.post(url, data)
        assert "over another visit&#x27;s buffer" in response.content.decode()
        response = run_commits(staff.post, url, {**data, "outside_hours_confirmed": "on"})
        assert response.status_code == 302
        moved = refresh(visit)
        assert (moved.blocked_start, moved.blocked_end) == (at(8, 14), at(8, 15, 55))
        assert refresh(neighbour).blocked_end == at(8, 14)  # the neighbour keeps its own time

    def test_an_edit_that_keeps_the_time_asks_nothing(self, staff, visit):
        url = f"/admin/booking/appointment/{visit.pk}/change/"
        Appointment.objects.filter(pk=visit.pk).update(  # placed at 9 PM, confirmed, before
            start=at(8, 21), end=at(8, 21, 40), blocked_start=at(8, 20, 45), blocked_end=at(8, 22, 55)
        )
        data = change_data(staff, visit, start_0="2026-12-08", start_1="21:00:00", time_zone="America/Chicago")
        response = staff.post(url, data)
        assert response.status_code == 302 and refresh(visit).time_zone == "America/Chicago"

    def test_bulk_admin_actions(self, staff, jump, clinician, book_visit, run_commits):
        first, second = book_visit(clinician, at(8, 9, 15)), book_visit(clinician, at(8, 16))
        jump(at(8, 12))
        data = {"action": "mark_no_show", "_selected_action": [first.pk, second.pk]}
        response = run_commits(staff.post, "/admin/booking/appointment/", data, follow=True)
        assert "1 visit(s) marked no-show." in messages_of(response)
        assert [refresh(first).status, refresh(second).status] == ["no_show", "confirmed"]


def test_reasons_are_words_for_staff():
    placement = slots.Placement(
        problems=(slots.OUTSIDE_WORKING_HOURS, slots.DURING_TIME_OFF, slots.OVER_A_BUFFER),
        clash=False,
        held=slots.Interval(datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 1, 1, tzinfo=UTC)),
    )
    assert [str(reason) for reason in services.placement_reasons(placement)] == [
        "outside working hours",
        "during time off",
        "over another visit's buffer",
    ]
