"""The admin's patient page (/admin/booking/patient/<id>/record/): what each role sees of a
patient, the staff notes added there, the audit of each view, and the patient list's search."""

import datetime
import re

import pytest
from auditlog.models import LogEntry
from django.contrib.auth.models import Permission
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from booking import services
from booking.models import Appointment, AppointmentType, Patient, PatientNote, TreatmentPlan
from screening.models import Outcome, ReviewDecision, Screening
from tests.booking.conftest import clinic_time
from tests.factories import ClinicianFactory, StaffUserFactory, staff_sign_in, staff_with_role

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_now", "celery_eager")]

FRONT, CLIN, MAN = "Front desk", "Clinician", "Manager"
ROLES = [FRONT, CLIN, MAN]
CONFIRMED, CANCELLED, COMPLETED, NO_SHOW = (
    Appointment.Status.CONFIRMED,
    Appointment.Status.CANCELLED,
    Appointment.Status.COMPLETED,
    Appointment.Status.NO_SHOW,
)


def signed_in(role: str | None = None, **fields):
    user = staff_with_role(role, **fields) if role else StaffUserFactory(**fields)
    client = Client()
    staff_sign_in(client, user)
    return client, user


def record_url(patient: Patient) -> str:
    return f"/admin/booking/patient/{patient.pk}/record/"


def notes_url(patient: Patient) -> str:
    return f"/admin/booking/patient/{patient.pk}/record/notes/"


@pytest.fixture
def patient():
    return Patient.objects.create(
        full_name="Alex Rivera",
        email="alex@example.org",
        phone="(555) 010-0123",
        date_of_birth=datetime.date(1984, 3, 14),
    )


def screening(email="alex@example.org", **fields) -> Screening:
    values = {
        "full_name": "Alex Rivera",
        "submitted_at": timezone.now() - datetime.timedelta(days=3),
        "outcome": Outcome.ELIGIBLE,
        "clinical_outcome": Outcome.ELIGIBLE,
        "phq9_total": 17,
        "phq9_band": "moderately severe",
        "gad7_total": 12,
        "gad7_band": "moderate",
        **fields,
    }
    return Screening.objects.create(email=email, **values)


def visit(patient, start, *, status=CONFIRMED, clinician=None, slug="consultation", **fields) -> Appointment:
    kind = AppointmentType.objects.get(slug=slug)
    end, held_from, held_until = services.visit_times(kind, start)
    return Appointment.objects.create(
        patient=patient,
        clinician=clinician or ClinicianFactory(),
        appointment_type=kind,
        start=start,
        end=end,
        blocked_start=held_from,
        blocked_end=held_until,
        status=status,
        **fields,
    )


def plan(patient, screening, *, by=None, **fields) -> TreatmentPlan:
    values = {
        "appointment_type": AppointmentType.objects.get(slug="iv-infusion"),
        "sessions": 6,
        "min_hours_between": 48,
        "note": "Start low; check blood pressure history.",
        "approved_at": timezone.now() - datetime.timedelta(days=1),
        **fields,
    }
    return TreatmentPlan.objects.create(patient=patient, screening=screening, approved_by=by, **values)


def text_of(html: str) -> str:
    """The page's words, without tags and runs of white space."""
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


@pytest.fixture
def full_record(patient):
    """A patient with a screening reached through a visit, another through a plan, visits of each
    status, a plan and a note; and a stranger's screening carrying the same e-mail."""
    approver = StaffUserFactory(first_name="Maya", last_name="Chen")
    reviewer = StaffUserFactory(first_name="Sam", last_name="Ortiz")
    through_visit = screening(
        urgent=True,
        outcome=Outcome.URGENT,
        reviewed_at=timezone.now() - datetime.timedelta(days=2),
        reviewed_by=reviewer,
        review_decision=ReviewDecision.PLAN,
    )
    through_plan = screening(phq9_total=9, phq9_band="mild", pcl5_total=41, pcl5_positive=True)
    stranger = screening(phq9_total=26, phq9_band="severe")  # same e-mail, linked to nothing of Alex's
    dr_lee = ClinicianFactory(name="Dr. Lee")
    iv_plan = plan(patient, through_plan, by=approver)
    visits = {
        "upcoming": visit(patient, clinic_time(8, 10), clinician=dr_lee, screening=through_visit),
        "completed": visit(patient, clinic_time(1, 10), status=COMPLETED, slug="iv-infusion", treatment_plan=iv_plan),
        "no_show": visit(patient, clinic_time(2, 10), status=NO_SHOW, slug="iv-infusion", treatment_plan=iv_plan),
        "no_show_2": visit(patient, clinic_time(3, 14), status=NO_SHOW),
        "cancelled": visit(patient, clinic_time(10, 9), status=CANCELLED),
    }
    author = StaffUserFactory(first_name="Jo", last_name="Park")
    services.patient_note_add(patient=patient, author=author, text="Prefers calls after 5 PM.")
    return {
        "patient": patient,
        "through_visit": through_visit,
        "through_plan": through_plan,
        "stranger": stranger,
        "plan": iv_plan,
        **visits,
    }


def test_a_clinician_sees_contact_details_screenings_with_scores_visits_plans_and_notes(full_record):
    client, _clinician = signed_in(CLIN)
    response = client.get(record_url(full_record["patient"]))
    assert response.status_code == 200
    html = response.content.decode()
    text = text_of(html)
    for shown in ("Alex Rivera", "alex@example.org", "(555) 010-0123", "March 14, 1984"):
        assert shown in text
    # Screenings: outcome, urgent, scores, reviewed by whom and the decision.
    assert "17 / 27 (moderately severe)" in text and "12 / 21 (moderate)" in text
    assert "41 / 80 (provisional positive)" in text
    assert "by Sam Ortiz" in text and "Approved a treatment plan" in text
    assert "Urgent" in text
    for linked in ("through_visit", "through_plan"):
        assert f'href="/admin/screening/screening/{full_record[linked].pk}/change/"' in html
    # Visits: clinic time with its zone, type, clinician, status, each linking to its visit.
    assert "Tue Dec 08 2026, 10:00 AM EST Consultation Dr. Lee Confirmed" in text
    assert "Times are the clinic's (America/New_York)" in text
    for name in ("upcoming", "completed", "no_show", "cancelled"):
        assert f'href="/admin/booking/appointment/{full_record[name].pk}/change/"' in html
    # The plan: treatment, sessions, sessions left (a no-show gives its session back), spacing, approver, note.
    assert "IV ketamine infusion" in text
    assert f'href="/admin/booking/treatmentplan/{full_record["plan"].pk}/change/"' in html
    assert "6 5 At least 48 hours apart" in text
    assert "by Maya Chen" in text and "Start low; check blood pressure history." in text
    # Notes: dated in clinic time, signed.
    assert "Mon Dec 07 2026, 08:00 AM EST — Jo Park" in text and "Prefers calls after 5 PM." in text
    assert "Progress" not in text  # the PHQ-9 trend comes later, not as an empty heading


def test_the_front_desk_sees_outcomes_and_urgency_but_never_scores_or_plan_notes(full_record):
    client, _front_desk = signed_in(FRONT)
    text = text_of(client.get(record_url(full_record["patient"])).content.decode())
    assert "Urgent" in text and "Eligible" in text and "Approved a treatment plan" in text
    for hidden in ("PHQ-9", "GAD-7", "PCL-5", "/ 27", "/ 21", "/ 80", "moderately severe", "Start low"):
        assert hidden not in text
    assert "6 5 At least 48 hours apart" in text  # sessions left: what front desk books within


def test_only_screenings_reached_through_the_patients_visits_or_plans_are_shown(full_record):
    client, _clinician = signed_in(CLIN)
    html = client.get(record_url(full_record["patient"])).content.decode()
    assert f"/admin/screening/screening/{full_record['stranger'].pk}/change/" not in html
    assert "26 / 27" not in html  # the stranger's score, although typed with Alex's e-mail


def test_visits_are_split_into_upcoming_and_past_and_counted_with_the_no_shows(full_record):
    client, _front_desk = signed_in(FRONT)
    text = text_of(client.get(record_url(full_record["patient"])).content.decode())
    assert "Upcoming 1 Completed 1 No-shows 2 Cancelled 1" in text
    upcoming, past = text.split("Upcoming visits", 1)[1].split("Past visits", 1)
    assert "Tue Dec 08" in upcoming and "Thu Dec 10" in upcoming  # cancelled, still in the future
    assert "Tue Dec 01" in past and "Thu Dec 03" in past and "Tue Dec 08" not in past
    assert past.index("Thu Dec 03") < past.index("Wed Dec 02") < past.index("Tue Dec 01")  # newest first


def test_a_record_with_nothing_yet_says_so(patient):
    client, _front_desk = signed_in(FRONT)
    text = text_of(client.get(record_url(patient)).content.decode())
    assert "No upcoming visits." in text and "No past visits." in text
    assert "No screening is linked" in text and "No treatment plan." in text and "No notes yet." in text


def test_a_record_whose_details_differ_links_to_the_record_it_shares_an_e_mail_with(patient):
    other = Patient.objects.create(
        full_name="A. Rivera", email="alex@example.org", phone="5550100999", details_differ_from=patient
    )
    client, _front_desk = signed_in(FRONT)
    html = client.get(record_url(other)).content.decode()
    assert f'href="/admin/booking/patient/{patient.pk}/record/"' in html
    assert f"Patient #{patient.pk}" in html


@pytest.mark.parametrize(
    ("role", "shown"),
    [
        (FRONT, "patient record"),
        (CLIN, "patient record with screening scores"),
        (MAN, "patient record with screening scores"),
    ],
)
def test_each_view_of_the_record_is_an_access_entry_saying_what_was_shown(full_record, role, shown):
    client, user = signed_in(role)
    patient = full_record["patient"]
    for _ in range(2):
        client.get(record_url(patient))
    events = LogEntry.objects.get_for_object(patient).filter(action=LogEntry.Action.ACCESS)
    assert [(event.actor, event.additional_data) for event in events] == [(user, {"shown": shown})] * 2


def test_a_note_is_added_dated_signed_and_in_the_audit_trail(patient):
    client, clinician = signed_in(CLIN, first_name="Maya", last_name="Chen")
    response = client.post(notes_url(patient), {"text": "  Called back; will book next week.  "})
    assert response.status_code == 302 and response["Location"] == record_url(patient) + "#notes"
    note = PatientNote.objects.get()
    assert (note.patient, note.author, note.text) == (patient, clinician, "Called back; will book next week.")
    created = LogEntry.objects.get_for_object(note).get(action=LogEntry.Action.CREATE)
    assert created.actor == clinician
    text = text_of(client.get(response["Location"]).content.decode())
    assert "Note added." in text
    assert "Mon Dec 07 2026, 08:00 AM EST — Maya Chen Called back; will book next week." in text


def test_notes_are_listed_newest_first(patient):
    client, front_desk = signed_in(FRONT)
    PatientNote.objects.bulk_create(
        [
            PatientNote(patient=patient, author=front_desk, text="First call."),
            PatientNote(patient=patient, author=front_desk, text="Second call."),
        ]
    )
    first, second = PatientNote.objects.order_by("pk")
    PatientNote.objects.filter(pk=first.pk).update(created_at=timezone.now() - datetime.timedelta(days=1))
    text = text_of(client.get(record_url(patient)).content.decode())
    assert text.index("Second call.") < text.index("First call.")
    assert "Sun Dec 06 2026, 08:00 AM EST" in text


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("   ", "Write the note before adding it."),
        ("x" * 2001, "A note can be at most 2000 characters; this one has 2001."),
        ("Allergic to\x00 latex", "hidden character (a NUL)"),
    ],
    ids=["empty", "too-long", "nul-byte"],
)
def test_a_note_that_cannot_be_added_is_refused_kindly_keeping_what_was_typed(patient, typed, message):
    client, _front_desk = signed_in(FRONT)
    response = client.post(notes_url(patient), {"text": typed})
    assert response.status_code == 200
    html = response.content.decode()
    assert not PatientNote.objects.exists()
    assert message in html
    assert '<div class="errornote" role="alert">' in html and 'href="#id_text"' in html  # the summary links the field
    assert 'aria-invalid="true"' in html
    if typed.strip():
        assert typed.replace("\x00", "\ufffd") in html.replace("\x00", "\ufffd")  # all of it, to fix and send again


def test_a_note_form_is_labelled_and_protected_against_forged_posts(patient):
    client, user = signed_in(FRONT)
    html = client.get(record_url(patient)).content.decode()
    assert '<label class="required" for="id_text">Note</label>' in html
    assert 'name="csrfmiddlewaretoken"' in html
    guarded = Client(enforce_csrf_checks=True)
    staff_sign_in(guarded, user)
    assert guarded.post(notes_url(patient), {"text": "Forged"}).status_code == 403
    assert not PatientNote.objects.exists()


def test_the_page_reads_a_fixed_number_of_queries_whatever_the_size_of_the_record(patient, django_assert_num_queries):
    client, _clinician = signed_in(CLIN)
    url = record_url(patient)
    author = StaffUserFactory()

    def grow(count: int, offset: int) -> None:
        for n in range(count):
            linked = screening(reviewed_at=timezone.now(), reviewed_by=author)
            start = clinic_time(1, 9) + datetime.timedelta(days=offset + n, hours=n % 5)
            visit(patient, start, status=(CONFIRMED, COMPLETED, NO_SHOW)[n % 3], screening=linked)
            plan(patient, linked, by=author, ended_at=timezone.now())
            services.patient_note_add(patient=patient, author=author, text=f"Note {n}")

    grow(2, 0)
    client.get(url)  # warm: content types and the like, read once a process
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    grow(25, 10)
    with django_assert_num_queries(len(few)):
        response = client.get(url)
    assert text_of(response.content.decode()).count("Note ") >= 27


def test_no_token_of_the_patient_or_their_visits_is_in_the_page(full_record, settings):
    settings.VIDEO_ROOM_BASE_URL = "https://meet.clinic.example.org/"
    patient = full_record["patient"]
    secrets = [patient.booking_token, full_record["through_visit"].token, full_record["through_plan"].token]
    for name in ("upcoming", "completed", "no_show", "cancelled"):
        appointment = Appointment.objects.get(pk=full_record[name].pk)
        secrets += [appointment.token, appointment.video_room]
    for role in ROLES:
        client, _user = signed_in(role)
        html = client.get(record_url(patient)).content.decode()
        for secret in secrets:
            assert secret not in html


# ---- who may open the page and add a note


def test_anonymous_visitors_are_sent_to_sign_in(patient, client):
    for url in (record_url(patient), notes_url(patient)):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
    assert client.post(notes_url(patient), {"text": "Hello"}).status_code == 302
    assert not PatientNote.objects.exists()


@pytest.mark.parametrize("role", [*ROLES, None], ids=[*ROLES, "staff without a role"])
def test_each_role_opens_the_record_and_adds_notes_as_its_permissions_say(patient, role):
    client, _user = signed_in(role)
    page = client.get(record_url(patient))
    added = client.post(notes_url(patient), {"text": "Checked the phone number."})
    if role is None:
        assert (page.status_code, added.status_code) == (403, 403)
        assert not PatientNote.objects.exists()
    else:
        assert page.status_code == 200 and "Add a note" in page.content.decode()
        assert added.status_code == 302 and PatientNote.objects.count() == 1


def test_staff_who_may_see_patients_but_not_write_notes_get_no_form_and_cannot_post(patient):
    client, user = signed_in()
    user.user_permissions.add(
        Permission.objects.get(codename="view_patient"), Permission.objects.get(codename="view_patientnote")
    )
    page = client.get(record_url(patient)).content.decode()
    assert "Staff notes" in page and "Add a note" not in page
    assert client.post(notes_url(patient), {"text": "Sneaky"}).status_code == 403
    assert not PatientNote.objects.exists()


@pytest.mark.parametrize("patient_id", ["999999", "99999999999999999999"])
def test_an_unknown_patient_is_not_found(patient_id):
    client, _front_desk = signed_in(FRONT)
    assert client.get(f"/admin/booking/patient/{patient_id}/record/").status_code == 404
    assert client.get("/admin/booking/patient/nope/record/").status_code in (302, 404)


def test_the_patient_list_and_change_page_lead_to_the_record(patient):
    client, _front_desk = signed_in(FRONT)
    listing = client.get("/admin/booking/patient/").content.decode()
    assert f'<a href="/admin/booking/patient/{patient.pk}/record/">Patient #{patient.pk}</a>' in listing
    assert f'href="/admin/booking/patient/{patient.pk}/change/"' in listing  # contact details, edited there
    change = client.get(f"/admin/booking/patient/{patient.pk}/change/").content.decode()
    assert f'href="/admin/booking/patient/{patient.pk}/record/"' in change


def test_a_visits_patient_chooser_still_picks_the_row(patient):
    client, _front_desk = signed_in(FRONT)
    popup = client.get("/admin/booking/patient/?_to_field=id&_popup=1").content.decode()
    row = re.search(r'<th class="field-__str__">(.*?)</th>', popup).group(1)
    assert f'href="/admin/booking/patient/{patient.pk}/change/' in row and f'data-popup-opener="{patient.pk}"' in row


# ---- search


@pytest.fixture
def patients():
    return {
        "alex": Patient.objects.create(
            full_name="Alex Rivera",
            email="alex@example.org",
            phone="(555) 010-0123",
            date_of_birth=datetime.date(1984, 3, 14),
        ),
        "sam": Patient.objects.create(
            full_name="Sam Ortiz",
            email="sam.o@example.net",
            phone="+1 555.010.0456",
            date_of_birth=datetime.date(1990, 7, 2),
        ),
        "kim": Patient.objects.create(full_name="Kim Lee", email="kim@example.com", phone="5550100789"),
    }


def found(client, term: str) -> set[str]:
    response = client.get("/admin/booking/patient/", {"q": term})
    assert response.status_code == 200
    return {patient.full_name for patient in response.context["cl"].result_list}


@pytest.mark.parametrize(
    ("term", "expected"),
    [
        ("rivera", {"Alex Rivera"}),
        ("Sam Ortiz", {"Sam Ortiz"}),
        ("kim@example.com", {"Kim Lee"}),
        ("example.org", {"Alex Rivera"}),
        ("(555) 010-0123", {"Alex Rivera"}),
        ("5550100123", {"Alex Rivera"}),  # digits only, the record typed with brackets and a dash
        ("555-010-0456", {"Sam Ortiz"}),  # other punctuation than the record's
        ("+15550100789", {"Kim Lee"}),  # with the country code
        ("0100", {"Alex Rivera", "Sam Ortiz", "Kim Lee"}),
        ("1984-03-14", {"Alex Rivera"}),
        ("07/02/1990", {"Sam Ortiz"}),
        ("7/2/1990", {"Sam Ortiz"}),
        ("1990-07-03", set()),  # a date matches the date of birth exactly
        ("", {"Alex Rivera", "Sam Ortiz", "Kim Lee"}),
    ],
)
def test_staff_find_patients_by_name_e_mail_phone_or_date_of_birth(patients, term, expected):
    client, _front_desk = signed_in(FRONT)
    assert found(client, term) == expected


@pytest.mark.parametrize(
    "term",
    ["x" * 100_000, "9" * 5000, "Alex " * 2000, "02/30/1990", "0001-01-01", "9999-12-31", "13/45/2000", "%", "_"],
    ids=["huge", "huge-digits", "many-words", "no-such-day", "year-1", "year-9999", "nonsense-date", "%", "_"],
)
def test_bad_search_input_finds_nobody_and_never_fails(patients, term):
    client, _front_desk = signed_in(FRONT)
    assert found(client, term) == set()


@pytest.mark.parametrize("term", ["\x00", "Alex\x00"])
def test_a_search_with_a_nul_byte_is_refused_with_a_message(patients, term):
    client, _front_desk = signed_in(FRONT)
    response = client.get("/admin/booking/patient/", {"q": term})
    assert response.status_code == 200
    assert "Null characters are not allowed." in response.content.decode()


def test_a_nul_byte_reaching_the_search_itself_matches_nobody(patients, rf):
    from django.contrib import admin

    request = rf.get("/admin/booking/patient/")
    results, _duplicates = admin.site._registry[Patient].get_search_results(request, Patient.objects.all(), "Alex\x00")
    assert not results.exists()
