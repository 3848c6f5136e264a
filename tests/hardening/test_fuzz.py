"""Whatever anyone sends to the booking pages, a visit's own pages and the slots API, the answer is
never a server error, and the clinic's records stay sound: no clinician is booked twice at once,
no visit ends before it starts, and no reminder waits to go out for a cancelled visit or for a
time the visit was moved from.

Every example starts from the same valid state (a clinician with working hours, a screened
visitor part way through booking, confirmed visits that may still be changed online), so each
input meets a page that can act on it rather than a redirect left by the input before; its
writes are rolled back at the end.
"""

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from urllib.parse import quote, urlencode

import pytest
from django.conf import settings as django_settings
from django.db import transaction
from django.db.models import Count, Exists, F, OuterRef, Q
from django.test import Client
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from booking import services
from booking.models import Appointment
from reminders.models import Reminder, ReminderKind
from tests.booking import conftest as booking_fixtures
from tests.booking.conftest import clinic_time
from tests.booking.test_booking import book, details
from tests.factories import ClinicianFactory, treatment_patient

frozen_now, screened_client = booking_fixtures.frozen_now, booking_fixtures.screened_client  # shared fixtures

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_now")]

FUZZ = settings(
    max_examples=1000,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)

# --- What anyone might send -------------------------------------------------------------------


def evenly(*strategies: st.SearchStrategy) -> st.SearchStrategy:
    """One of these, each as likely: st.one_of flattens nested choices, so TEXT's five kinds of
    nonsense would otherwise crowd out the one well-formed value beside them."""
    return st.sampled_from(strategies).flatmap(lambda chosen: chosen)


EDGES = [
    "", " ", "\x00", "a\x00b", "\ud800", "x\udfffy", "²", "٣", "１２", "-1", "0", "007", "+1", "1_000", "1e3",
    "99999999999999999999", "9223372036854775808", "9" * 400, "x" * 5000, "0001-01-01", "9999-12-31",
    "0000-00-00", "2026-02-30", "0001-01-01T00:00:00+00:00", "9999-12-31T23:59:59-23:59", "2026-12-08T10:00:00",
    "any", "|", "a|b|c", "%00", "../../etc/passwd", "<script>alert(1)</script>", "' OR 1=1 --", "NaN", "\u202e",
    "İ", "America/New_York", "Asia/Kathmandu", "UTC", "Etc/GMT+14", "US/Eastern",
]  # fmt: skip
TEXT = st.one_of(
    st.sampled_from(EDGES),
    st.text(st.characters(), max_size=30),  # any code point, lone surrogates included (st.text() has none)
    st.integers().map(str),  # unbounded: huge numbers too
    st.dates().map(date.isoformat),  # year 1 to 9999
    st.datetimes(timezones=st.timezones()).map(datetime.isoformat),
)
# Start times the picker offers this week (frozen on Monday 7 December 2026, 8:00), in the
# clinic's zone and in UTC, so that some picks and moves succeed.
OFFERED = [
    moment.astimezone(zone).isoformat()
    for day in range(8, 15)
    for hour in range(9, 17)
    for minute in (0, 15, 30, 45)
    for moment in [clinic_time(day, hour, minute)]
    for zone in (moment.tzinfo, UTC)
]
DAYS = [(date(2026, 12, 7) + timedelta(days=n)).isoformat() for n in range(-1, 70, 3)]


def picks(clinician_id: int) -> st.SearchStrategy[str]:
    """The picker's "start|clinician" values: as it writes them, with anything in either half, or anything."""
    start, who = st.sampled_from(OFFERED), st.sampled_from([str(clinician_id), "any"])
    return evenly(
        st.builds("{}|{}".format, start, who),
        st.builds("{}|{}".format, evenly(start, TEXT), evenly(who, TEXT)),
        TEXT,
    )


def fields(names: list[str], values: st.SearchStrategy[str] = TEXT) -> st.SearchStrategy[list[tuple[str, str]]]:
    """Form or query fields: the page's own names and any other, repeated or left out."""
    return st.lists(st.tuples(st.sampled_from([*names, "x", ""]), values), max_size=5)


def picker_form(clinician_id: int) -> st.SearchStrategy[list[tuple[str, str]]]:
    """The picker's form as sent: its one field."""
    return picks(clinician_id).map(lambda slot: [("slot", slot)])


PICKER_QUERY = fields(["day", "from", "clinician", "tz"], evenly(TEXT, st.sampled_from(DAYS)))


def tokens(*real: str) -> st.SearchStrategy[str]:
    """Mostly a visit's own token; else anything, or a well-formed token of nobody's."""
    nobody = st.text(alphabet="ABCxyz019_-", min_size=16, max_size=64)
    return evenly(st.sampled_from(real), st.sampled_from(real), st.sampled_from(real), nobody, TEXT)


# --- Sending it -------------------------------------------------------------------------------


def on_the_wire(value: str) -> bytes:
    # What a client can send: UTF-8, and lone surrogates as the invalid bytes they would be.
    return value.encode("utf-8", "surrogatepass")


def encoded(pairs: list[tuple[str, str]]) -> str:
    return urlencode([(name, on_the_wire(value)) for name, value in pairs])


def send(client: Client, method: str, path: str, query=(), form=()):
    url = f"{path}?{encoded(query)}" if query else path
    if method == "GET":
        return client.get(url)
    return client.post(url, encoded(form), content_type="application/x-www-form-urlencoded")


def in_path(token: str) -> str:
    return quote(on_the_wire(token), safe="")


def browser(session_key: str | None = None) -> Client:
    """A new browser, holding the given session (as a cookie does)."""
    client = Client()
    if session_key:
        client.cookies[django_settings.SESSION_COOKIE_NAME] = session_key
    return client


class _RolledBack(Exception):
    pass


@contextmanager
def rolled_back() -> Iterator[None]:
    """One example's writes, undone at its end: the next one starts from the same state."""
    try:
        with transaction.atomic():
            yield
            raise _RolledBack
    except _RolledBack:
        pass


def assert_records_sound() -> None:
    """What must hold whatever was sent, counted in one query (every example pays for it)."""
    cancelled = Q(status=Appointment.Status.CANCELLED)
    overlapping = Appointment.objects.active().filter(
        clinician=OuterRef("clinician"),
        blocked_start__lt=OuterRef("blocked_end"),
        blocked_end__gt=OuterRef("blocked_start"),
    )
    waiting = Reminder.objects.filter(appointment=OuterRef("pk"), status=Reminder.Status.PENDING)
    broken = Appointment.objects.aggregate(
        double_booked=Count("pk", filter=~cancelled & Exists(overlapping.exclude(pk=OuterRef("pk")))),
        ends_before_it_starts=Count("pk", filter=Q(end__lte=F("start"))),
        reminded_though_cancelled=Count(
            "pk", filter=cancelled & Exists(waiting.exclude(kind=ReminderKind.CANCELLATION))
        ),
        reminded_of_a_time_moved_from=Count("pk", filter=Exists(waiting.exclude(for_start=OuterRef("start")))),
    )
    assert not any(broken.values()), broken


def assert_answered(response) -> None:
    event(f"answered {response.status_code}")  # --hypothesis-show-statistics: how far inputs got
    assert response.status_code < 500, response.status_code


# --- The state every example starts from --------------------------------------------------------


@dataclass(frozen=True)
class Clinic:
    clinician_id: int
    visit: str  # a consultation's token, Wednesday at 10:00: may still be moved or cancelled online
    infusion: str  # an IV infusion's token, Thursday at 9:00: needs a ride home
    cancelled: str  # a consultation's token, Friday at 10:00, cancelled by the patient
    screened: str  # the session of a visitor whose screening lets them book a consultation


@pytest.fixture
def clinic(screened_client) -> Clinic:
    clinician = ClinicianFactory(offers=["consultation", "follow-up", "iv-infusion"])
    visit = book(clinician, clinic_time(9, 10), key="visit")
    planned = treatment_patient(details(2), "iv-infusion")
    infusion = book(clinician, clinic_time(10, 9), key="infusion", slug="iv-infusion", proven=planned)
    cancelled = services.appointment_cancel(appointment=book(clinician, clinic_time(11, 10), key="cancelled", n=3))
    session = screened_client.cookies[django_settings.SESSION_COOKIE_NAME].value
    return Clinic(clinician.pk, visit.token, infusion.token, cancelled.token, session)


DETAILS = {"full_name": "Alex Rivera", "email": "alex@example.org", "phone": "(555) 010-0123"}
ODD_DETAILS = {
    "full_name": ["Zoë Ōtsuka-Nakamura", "Ａｌｅｘ", "O'Brien", "李小龍", "A" * 150, "A" * 151],
    "email": ["ALEX@Example.ORG", "alex+clinic@example.org", "a@b.co", "patient1@example.org", "a@" + "b" * 250],
    "phone": ["+44 20 7946 0958", "555.010.0123", "+１ 555 010 0123", "5" * 15, "5" * 16],
}
# The details form as sent: each field the usual, an odd but maybe valid value, or anything; and more fields.
DETAILS_FORM = st.builds(
    lambda given, more: [*given.items(), *more],
    st.fixed_dictionaries(
        {name: evenly(st.just(usual), st.sampled_from(ODD_DETAILS[name]), TEXT) for name, usual in DETAILS.items()}
    ),
    fields(list(DETAILS)),
)


@pytest.fixture
def at_details(clinic) -> str:
    """The screened visitor's session once they picked Tuesday 10:00: at the details step."""
    client = browser(clinic.screened)
    response = client.post("/book/consultation/", {"slot": f"{clinic_time(8, 10).isoformat()}|any"})
    assert response["Location"] == "/book/consultation/details/"
    return clinic.screened


@pytest.fixture
def at_confirm(at_details) -> str:
    """… and gave their details: at the confirm step."""
    client = browser(at_details)
    assert client.post("/book/consultation/details/", DETAILS)["Location"] == "/book/consultation/confirm/"
    return at_details


def confirm_from_the_page(client: Client):
    """Confirm as the confirm page's own form would."""
    page = client.get("/book/consultation/confirm/")
    assert_answered(page)
    key = re.search(r'name="request_key" value="([^"]+)"', page.content.decode())
    return client.post("/book/consultation/confirm/", {"request_key": key.group(1)} if key else {})


# --- Booking: pick, details, confirm ------------------------------------------------------------


@FUZZ
@given(data=st.data(), method=st.sampled_from(["GET", "POST", "POST"]))
def test_picking_a_time_never_fails(clinic, data, method):
    link = data.draw(evenly(st.just([]), st.just([]), st.just([]), fields(["screening", "patient"])))
    query = data.draw(PICKER_QUERY)
    picked = picker_form(clinic.clinician_id)
    form = data.draw(evenly(picked, picked, fields(["slot"])))
    with rolled_back():
        client = browser(clinic.screened)
        if link:  # arrived by a link first (a screening result's, an approval e-mail's)
            assert_answered(send(client, "GET", "/book/", link))
            assert_answered(client.get("/book/"))
        response = send(client, method, "/book/consultation/", query, form)
        assert_answered(response)
        if response.status_code == 302:  # a time was taken: the next step shows it
            assert_answered(client.get("/book/consultation/details/"))
        assert_records_sound()


@FUZZ
@given(form=DETAILS_FORM)
def test_giving_details_never_fails_nor_does_booking_with_them(at_details, form):
    with rolled_back():
        client = browser(at_details)
        response = send(client, "POST", "/book/consultation/details/", form=form)
        assert_answered(response)
        if response.status_code == 302:  # accepted: they must also be bookable
            assert_answered(confirm_from_the_page(client))
        assert_records_sound()


@FUZZ
@given(
    query=fields(["tz"]),
    form=fields(["request_key", "slot"]),
    twice=st.booleans(),
)
def test_confirming_never_fails_and_books_at_most_once_at_the_time_picked(at_confirm, query, form, twice):
    with rolled_back():
        client = browser(at_confirm)
        before = list(Appointment.objects.values_list("pk", flat=True))
        for _send in range(2 if twice else 1):
            assert_answered(send(client, "POST", "/book/consultation/confirm/", query, form))
        made = Appointment.objects.exclude(pk__in=before).values_list("start", flat=True)
        assert list(made) in ([], [clinic_time(8, 10)])
        assert_records_sound()


# --- A visit's own pages ------------------------------------------------------------------------


@FUZZ
@given(data=st.data(), method=st.sampled_from(["GET", "POST", "POST"]))
def test_moving_a_visit_never_fails(clinic, data, method):
    token = data.draw(tokens(clinic.visit))
    query = data.draw(PICKER_QUERY)
    picked = picker_form(clinic.clinician_id)
    form = data.draw(evenly(picked, picked, fields(["slot"])))
    with rolled_back():
        client = browser()
        response = send(client, method, f"/appointments/{in_path(token)}/reschedule/", query, form)
        assert_answered(response)
        if response.status_code == 302 and token == clinic.visit:  # moved (or refused): its page and calendar
            assert_answered(client.get(f"/appointments/{token}/"))
            assert_answered(client.get(f"/appointments/{token}/calendar.ics"))
        assert_records_sound()


@FUZZ
@given(data=st.data(), method=st.sampled_from(["GET", "POST", "POST"]))
def test_cancelling_a_visit_never_fails(clinic, data, method):
    token = data.draw(tokens(clinic.visit, clinic.visit, clinic.cancelled))
    form = data.draw(fields(["reason"]))
    with rolled_back():
        client = browser()
        response = send(client, method, f"/appointments/{in_path(token)}/cancel/", data.draw(fields([])), form)
        assert_answered(response)
        if response.status_code == 302 and token in (clinic.visit, clinic.cancelled):  # its page says so
            assert_answered(client.get(f"/appointments/{token}/"))
        assert_records_sound()


@FUZZ
@given(data=st.data(), method=st.sampled_from(["GET", "POST"]))
def test_confirming_the_ride_home_never_fails(clinic, data, method):
    token = data.draw(tokens(clinic.infusion, clinic.infusion, clinic.visit, clinic.cancelled))
    with rolled_back():
        response = send(browser(), method, f"/appointments/{in_path(token)}/ride/", data.draw(fields([])), [])
        assert_answered(response)
        assert_records_sound()


@FUZZ
@given(data=st.data())
def test_booking_again_from_a_visit_never_fails(clinic, data):
    token = data.draw(tokens(clinic.cancelled, clinic.visit))
    with rolled_back():
        client = browser()
        response = send(client, "POST", f"/appointments/{in_path(token)}/book-again/", form=data.draw(fields([])))
        assert_answered(response)
        if response.status_code == 302:  # this browser is now known as the visit's patient
            assert_answered(client.get("/book/"))
        assert_records_sound()


@FUZZ
@given(data=st.data(), page=st.sampled_from(["calendar.ics", ""]))
def test_a_visits_calendar_file_and_page_never_fail(clinic, data, page):
    token = data.draw(tokens(clinic.visit, clinic.cancelled, clinic.infusion))
    with rolled_back():
        client = browser()
        query = data.draw(fields(["booked", "moved", "ride"]))
        assert_answered(send(client, "GET", f"/appointments/{in_path(token)}/{page}", query))
        assert_records_sound()


# --- The slots API ------------------------------------------------------------------------------

API_VALUES = {
    "type": st.sampled_from(["consultation", "follow-up", "iv-infusion", "esketamine-nasal", "nope"]),
    "start": st.sampled_from(DAYS),
    "days": st.sampled_from(["1", "7", "62", "63"]),
    "tz": st.sampled_from(["America/New_York", "Pacific/Kiritimati", "Etc/GMT+12", "UTC"]),
}


@FUZZ
@given(data=st.data())
def test_the_slots_api_never_fails(clinic, data):
    query = [
        (name, data.draw(evenly(good, good, good, TEXT)))
        for name, good in {**API_VALUES, "clinician": st.just(str(clinic.clinician_id))}.items()
        if data.draw(st.integers(0, 9)) > 0  # now and then left out
    ]
    query += data.draw(fields(list(API_VALUES)))  # and now and then repeated, or joined by others
    with rolled_back():
        response = send(browser(), "GET", "/api/slots", query)
        assert_answered(response)
        assert response["Content-Type"] == "application/json"
        assert_records_sound()
