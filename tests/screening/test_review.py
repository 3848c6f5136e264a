"""The clinicians' review: the queue (urgent first, the time waited), the review page and its
form, the decisions, a treatment plan approved by the review itself, and the plans' admin."""

import datetime
import re

import pytest
from auditlog.models import LogEntry
from django.core import mail
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from booking.models import AppointmentType, Patient, TreatmentPlan
from booking.services import PlanRefused, treatment_plan_approve
from screening.models import ReviewDecision, Screening
from screening.services import PlanTerms, ReviewRefused, screening_review
from tests.booking.conftest import NOW, frozen_now  # noqa: F401 - the booking tests' clock
from tests.factories import StaffUserFactory, approved_plan, staff_sign_in, staff_with_role
from tests.screening import personas
from tests.screening.test_tasks_and_admin import submitted_screening
from tests.telemed.test_error_summary import ErrorSummaryPage

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_now", "celery_eager")]

QUEUE = "/admin/screening/screening/review/"
FRONT, CLIN, MAN = "Front desk", "Clinician", "Manager"


def review_url(screening) -> str:
    return f"/admin/screening/screening/{screening.pk}/review/"


def iv_plan(sessions=6, hours=48, note="Start at the usual dose.") -> PlanTerms:
    return PlanTerms(AppointmentType.objects.get(slug="iv-infusion"), sessions, hours, note)


def signed_in(role: str | None) -> tuple[Client, object]:
    client = Client()
    user = staff_with_role(role) if role else StaffUserFactory()
    staff_sign_in(client, user)
    return client, user


def waiting_since(screening: Screening, hours: float) -> Screening:
    Screening.objects.filter(pk=screening.pk).update(submitted_at=NOW - datetime.timedelta(hours=hours))
    screening.refresh_from_db()
    return screening


# --- The service ------------------------------------------------------------------------


@pytest.mark.parametrize("decision", [ReviewDecision.CONTACTED, ReviewDecision.CONSULTATION])
def test_a_review_records_who_when_the_decision_and_the_note(decision):
    screening = submitted_screening(personas.URGENT)
    clinician = staff_with_role(CLIN)
    screening_review(screening=screening, by=clinician, decision=decision, note="  Called; safe tonight.  ")
    screening.refresh_from_db()
    assert (screening.reviewed_by, screening.reviewed_at) == (clinician, NOW)
    assert (screening.review_decision, screening.review_note) == (decision, "Called; safe tonight.")
    assert not TreatmentPlan.objects.exists()


def test_not_suitable_needs_a_reason_kept_at_the_head_of_the_note():
    screening = submitted_screening(personas.REVIEW)
    clinician = staff_with_role(CLIN)
    with pytest.raises(ReviewRefused, match="why the treatment is not suitable"):
        screening_review(screening=screening, by=clinician, decision=ReviewDecision.NOT_SUITABLE, note="Seen.")
    screening.refresh_from_db()
    assert screening.reviewed_at is None
    screening_review(
        screening=screening,
        by=clinician,
        decision=ReviewDecision.NOT_SUITABLE,
        note="Discussed by phone.",
        reason="Seizures not controlled",
    )
    screening.refresh_from_db()
    assert screening.review_note == "Not suitable: Seizures not controlled\n\nDiscussed by phone."
    assert screening.review_decision == ReviewDecision.NOT_SUITABLE


def test_a_note_is_required_and_at_most_2000_characters_with_the_reason():
    screening = submitted_screening(personas.REVIEW)
    clinician = staff_with_role(CLIN)
    with pytest.raises(ReviewRefused, match="Please write a note"):
        screening_review(screening=screening, by=clinician, decision=ReviewDecision.CONTACTED, note="   ")
    with pytest.raises(ReviewRefused, match="longer than 2000"):
        screening_review(
            screening=screening, by=clinician, decision=ReviewDecision.NOT_SUITABLE, note="x" * 1990, reason="why"
        )
    screening.refresh_from_db()
    assert screening.reviewed_at is None


def test_an_unsubmitted_screening_cannot_be_reviewed():
    draft = Screening.objects.create(full_name="Alex Rivera", email="alex@example.org", urgent=True)
    with pytest.raises(ReviewRefused, match="not been submitted"):
        screening_review(screening=draft, by=staff_with_role(CLIN), decision=ReviewDecision.CONTACTED, note="Called.")
    draft.refresh_from_db()
    assert draft.reviewed_at is None


def test_a_plan_needs_a_reviewed_screening_which_the_review_itself_gives(django_capture_on_commit_callbacks):
    screening = submitted_screening(personas.ELIGIBLE)
    clinician = staff_with_role(CLIN)
    iv = AppointmentType.objects.get(slug="iv-infusion")
    with pytest.raises(PlanRefused, match="after the screening has been reviewed"):
        treatment_plan_approve(
            screening=screening, appointment_type=iv, sessions=6, min_hours_between=48, note="", by=clinician
        )
    assert not TreatmentPlan.objects.exists()

    with django_capture_on_commit_callbacks(execute=True):
        screening_review(
            screening=screening, by=clinician, decision=ReviewDecision.PLAN, note="Good candidate.", plan=iv_plan()
        )
    plan = TreatmentPlan.objects.get()
    assert (plan.appointment_type, plan.sessions, plan.min_hours_between) == (iv, 6, 48)
    assert (plan.screening, plan.approved_by, plan.approved_at, plan.note) == (
        screening,
        clinician,
        NOW,
        "Start at the usual dose.",
    )
    assert plan.patient.email == "alex@example.org"
    screening.refresh_from_db()
    assert screening.review_decision == ReviewDecision.PLAN and screening.reviewed_by == clinician
    assert [email.to for email in mail.outbox] == [["alex@example.org"]]  # the booking link


def test_a_plan_decision_without_the_plan_is_refused():
    screening = submitted_screening(personas.ELIGIBLE)
    with pytest.raises(ReviewRefused, match="treatment, sessions and spacing"):
        screening_review(screening=screening, by=staff_with_role(CLIN), decision=ReviewDecision.PLAN, note="Yes.")


def test_a_not_suitable_screening_is_refused_a_plan_and_nothing_is_saved():
    screening = submitted_screening(personas.NOT_SUITABLE)
    with pytest.raises(PlanRefused, match="not suitable"):
        screening_review(
            screening=screening, by=staff_with_role(CLIN), decision=ReviewDecision.PLAN, note="Hm.", plan=iv_plan()
        )
    screening.refresh_from_db()
    assert screening.reviewed_at is None and screening.review_decision == ""
    assert not TreatmentPlan.objects.exists()


def test_a_refused_plan_rolls_the_review_back_to_the_one_before():
    screening = submitted_screening(personas.ELIGIBLE)
    first, second = staff_with_role(CLIN), staff_with_role(CLIN)
    screening_review(screening=screening, by=first, decision=ReviewDecision.CONTACTED, note="Called.")
    consultation = PlanTerms(AppointmentType.objects.get(slug="consultation"), 6, 0)  # needs no approval
    with pytest.raises(PlanRefused, match="need a clinician's approval"):
        screening_review(screening=screening, by=second, decision=ReviewDecision.PLAN, note="Go.", plan=consultation)
    screening.refresh_from_db()
    assert (screening.reviewed_by, screening.review_decision, screening.review_note) == (
        first,
        ReviewDecision.CONTACTED,
        "Called.",
    )
    assert not TreatmentPlan.objects.exists()


def test_a_second_review_replaces_the_decision_and_the_trail_keeps_both():
    screening = submitted_screening(personas.REVIEW)
    first, second = staff_with_role(CLIN), staff_with_role(MAN)
    screening_review(screening=screening, by=first, decision=ReviewDecision.CONSULTATION, note="Needs a talk.")
    screening_review(screening=screening, by=second, decision=ReviewDecision.CONTACTED, note="Talked.")
    screening.refresh_from_db()
    assert (screening.reviewed_by, screening.review_decision) == (second, ReviewDecision.CONTACTED)
    updates = LogEntry.objects.get_for_object(screening).filter(action=LogEntry.Action.UPDATE)
    decisions = [
        (entry.actor, entry.changes["review_decision"][1])
        for entry in updates.filter(changes__has_key="review_decision").order_by("timestamp", "pk")
    ]
    assert decisions == [(first, "consultation"), (second, "contacted")]


def test_not_suitable_on_a_later_review_ends_the_plan_approved_on_the_screening():
    screening = submitted_screening(personas.ELIGIBLE)
    clinician = staff_with_role(CLIN)
    screening_review(screening=screening, by=clinician, decision=ReviewDecision.PLAN, note="Yes.", plan=iv_plan())
    screening_review(
        screening=screening,
        by=clinician,
        decision=ReviewDecision.NOT_SUITABLE,
        note="New history came to light.",
        reason="Intracerebral hemorrhage in 2019",
    )
    plan = TreatmentPlan.objects.get()
    assert plan.ended_at == NOW and plan.ended_reason == "Not suitable: Intracerebral hemorrhage in 2019"


# --- The queue --------------------------------------------------------------------------


def queue_order(html: str) -> list[int]:
    if "<tbody>" not in html:
        assert "No screening is waiting for review." in html
        return []
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return [int(pk) for pk in re.findall(r'<th scope="row">Screening #(\d+)</th>', body)]


def test_the_queue_lists_unreviewed_screenings_urgent_first_then_the_longest_waiting():
    eligible_5h = waiting_since(submitted_screening(personas.ELIGIBLE), 5)
    urgent_1h = waiting_since(submitted_screening(personas.URGENT), 1)
    review_3h = waiting_since(submitted_screening(personas.REVIEW), 3)
    urgent_6h = waiting_since(submitted_screening(personas.URGENT), 6)
    reviewed = submitted_screening(personas.URGENT)
    screening_review(screening=reviewed, by=StaffUserFactory(), decision=ReviewDecision.CONTACTED, note="Called.")
    Screening.objects.create(full_name="Sam Draft", urgent=True)  # unfinished: not for the queue
    client, _user = signed_in(CLIN)

    html = client.get(QUEUE).content.decode()
    assert queue_order(html) == [urgent_6h.pk, urgent_1h.pk, eligible_5h.pk, review_3h.pk]
    assert "6\xa0hours ago" in html and "1\xa0hour ago" in html and "5\xa0hours ago" in html
    assert "Mon Dec 07 2026, 02:00 AM EST" in html  # the exact time, in the clinic's zone
    assert html.count("— overdue") == 1  # only the urgent one past URGENT_REVIEW_HOURS (4)
    assert f'href="{review_url(urgent_6h)}"' in html
    assert "Alex Rivera" not in html  # no names in the list
    assert "8 / 27" in html  # PHQ-9 totals for those who may see scores


def test_every_view_of_the_queue_is_recorded_for_each_screening_shown():
    shown = [submitted_screening(personas.ELIGIBLE), submitted_screening(personas.URGENT)]
    client, clinician = signed_in(CLIN)
    client.get(QUEUE)
    entries = LogEntry.objects.filter(action=LogEntry.Action.ACCESS, actor=clinician)
    assert sorted(int(entry.object_pk) for entry in entries) == sorted(screening.pk for screening in shown)
    assert {entry.additional_data["shown"] for entry in entries} == {"screening scores"}


def copies(screening: Screening, n: int) -> None:
    fields = {
        field.attname: getattr(screening, field.attname)
        for field in Screening._meta.concrete_fields
        if field.attname not in ("id", "token")
    }
    Screening.objects.bulk_create(Screening(**fields) for _ in range(n))


def queries_for(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_the_queue_runs_the_same_queries_for_5_and_100_screenings():
    copies(submitted_screening(personas.URGENT), 4)
    client, _user = signed_in(CLIN)
    client.get(QUEUE)  # the session and content types, read once
    at_5 = queries_for(client, QUEUE)
    copies(Screening.objects.first(), 95)
    at_100 = queries_for(client, QUEUE)
    assert Screening.objects.count() == 100
    assert at_5 == at_100


# --- The review page --------------------------------------------------------------------


def test_the_review_page_shows_the_screening_and_is_recorded():
    screening = submitted_screening(personas.URGENT)
    client, clinician = signed_in(CLIN)
    html = client.get(review_url(screening)).content.decode()
    assert "PHQ-9</th><td>8 / 27" in html  # the admin's own summary
    assert "Thoughts that you would be better off dead" in html  # the answers, in the questionnaire's words
    assert "alex@example.org" in html  # to contact the person
    assert '<legend class="required">Decision' in html
    [entry] = LogEntry.objects.get_for_object(screening).filter(action=LogEntry.Action.ACCESS)
    assert entry.actor == clinician and entry.additional_data == {"shown": "screening answers"}


def test_a_clinician_approves_a_plan_from_the_page_and_returns_to_the_queue(django_capture_on_commit_callbacks):
    screening = submitted_screening(personas.ELIGIBLE)
    client, clinician = signed_in(CLIN)
    iv = AppointmentType.objects.get(slug="iv-infusion")
    data = {
        "decision": "plan",
        "note": "Good candidate.",
        "treatment": iv.pk,
        "sessions": "6",
        "min_hours_between": "48",
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(review_url(screening), data)
    assert response.status_code == 302 and response["Location"] == QUEUE
    page = client.get(QUEUE).content.decode()
    assert f"Screening #{screening.pk} reviewed: treatment plan approved, 6 session(s) of IV ketamine infusion" in page
    plan = TreatmentPlan.objects.get()
    assert (plan.sessions, plan.min_hours_between, plan.approved_by) == (6, 48, clinician)
    assert queue_order(page) == []


def post_review(client, screening, data: dict):
    return client.post(review_url(screening), data)


def test_errors_are_summarised_with_links_and_everything_typed_is_kept():
    screening = submitted_screening(personas.ELIGIBLE)
    client, _user = signed_in(CLIN)
    response = post_review(
        client, screening, {"decision": "plan", "note": "", "sessions": "60", "plan_note": "Typed plan note"}
    )
    assert response.status_code == 200
    page = ErrorSummaryPage(response.content.decode())
    [summary] = page.summaries
    assert summary.autofocus and summary.heading == "Please correct 4 answers below."
    assert [href for href, _text in summary.links] == [
        "#id_note",
        "#id_treatment",
        "#id_sessions",
        "#id_min_hours_between",
    ]
    assert all(href[1:] in page.elements for href, _text in summary.links)
    assert summary.links[0][1].startswith("Note: Please write a note")
    html = response.content.decode()
    assert 'value="60"' in html and "Typed plan note" in html
    assert re.search(r'<input type="radio" name="decision" value="plan"[^>]* checked', html)
    assert "<title>Error: Review Screening #" in html
    screening.refresh_from_db()
    assert screening.reviewed_at is None


def test_not_suitable_without_a_reason_is_an_error_on_the_reason():
    screening = submitted_screening(personas.REVIEW)
    client, _user = signed_in(CLIN)
    page = ErrorSummaryPage(
        post_review(client, screening, {"decision": "not_suitable", "note": "Seen."}).content.decode()
    )
    assert [href for href, _text in page.summaries[0].links] == ["#id_reason"]


def test_a_refused_plan_is_shown_on_the_form_and_nothing_is_saved():
    screening = submitted_screening(personas.NOT_SUITABLE)
    client, _user = signed_in(CLIN)
    iv = AppointmentType.objects.get(slug="iv-infusion")
    data = {"decision": "plan", "note": "Try?", "treatment": iv.pk, "sessions": "6", "min_hours_between": "48"}
    response = post_review(client, screening, data)
    assert response.status_code == 200
    assert "rules the treatment out" in response.content.decode()
    screening.refresh_from_db()
    assert screening.reviewed_at is None and not TreatmentPlan.objects.exists()


def test_only_active_treatments_that_need_approval_are_offered():
    AppointmentType.objects.filter(slug="esketamine-nasal").update(active=False)
    screening = submitted_screening(personas.ELIGIBLE)
    client, _user = signed_in(CLIN)
    html = client.get(review_url(screening)).content.decode()
    options = re.findall(r'<option value="(\d+)"', html.split('id="id_treatment"', 1)[1].split("</select>", 1)[0])
    assert options == [str(AppointmentType.objects.get(slug="iv-infusion").pk)]
    consultation = AppointmentType.objects.get(slug="consultation")
    data = {"decision": "plan", "note": "x", "treatment": consultation.pk, "sessions": "2", "min_hours_between": "0"}
    assert "Select a valid choice" in post_review(client, screening, data).content.decode()


BAD_INPUT = [
    {"decision": "contacted\x00", "note": "Called."},
    {"decision": "contacted", "note": "Called.\x00"},
    {"decision": "not_suitable", "note": "Seen.", "reason": "\x00"},
    {"decision": "plan", "note": "x", "treatment": "\x00", "sessions": "\x00", "min_hours_between": "\x00"},
    {"decision": "plan", "note": "x", "treatment": "9" * 30, "sessions": "9" * 5000, "min_hours_between": "1e999"},
    {"decision": "plan", "note": "x", "treatment": "-1", "sessions": "-3", "min_hours_between": "99999"},
    {"decision": "plan", "note": "x", "treatment": "iv", "sessions": "²", "min_hours_between": "٤٨"},
    {"decision": "nonsense", "note": "x" * 5000},
    {"decision": ["contacted", "plan"], "note": ["a", "b"]},
]


@pytest.mark.parametrize("data", BAD_INPUT)
def test_bad_input_is_an_error_on_the_form_never_a_crash(data):
    screening = submitted_screening(personas.ELIGIBLE)
    client, _user = signed_in(CLIN)
    response = post_review(client, screening, data)
    assert response.status_code in (200, 302)
    if response.status_code == 200:
        assert ErrorSummaryPage(response.content.decode()).summaries, "an error says what to correct"
    assert not TreatmentPlan.objects.exists()


def test_unicode_digits_are_read_as_the_numbers_they_are():
    screening = submitted_screening(personas.ELIGIBLE)
    client, _user = signed_in(CLIN)
    iv = AppointmentType.objects.get(slug="iv-infusion")
    data = {"decision": "plan", "note": "x", "treatment": iv.pk, "sessions": "٦", "min_hours_between": "٤٨"}
    assert post_review(client, screening, data).status_code == 302
    assert TreatmentPlan.objects.values_list("sessions", "min_hours_between").get() == (6, 48)


@pytest.mark.parametrize("pk", ["999999", "9" * 40])
def test_a_review_page_for_no_screening_is_not_found(pk):
    client, _user = signed_in(CLIN)
    assert client.get(f"/admin/screening/screening/{pk}/review/").status_code == 404


def test_an_unfinished_screening_has_a_page_but_no_review_form():
    draft = Screening.objects.create(full_name="Sam Draft", email="sam@example.org", urgent=True)
    client, _user = signed_in(CLIN)
    html = client.get(review_url(draft)).content.decode()
    assert "nothing to review" in html and 'name="decision"' not in html
    assert client.post(review_url(draft), {"decision": "contacted", "note": "x"}).status_code == 200
    draft.refresh_from_db()
    assert draft.reviewed_at is None


# --- Who may do what --------------------------------------------------------------------

ROLES = [None, FRONT, CLIN, MAN]  # None: a staff account without a role


@pytest.mark.parametrize("role", ROLES)
def test_only_clinicians_and_managers_open_the_queue_and_review(role):
    screening = submitted_screening(personas.URGENT)
    client, _user = signed_in(role)
    allowed = role in (CLIN, MAN)
    assert client.get(QUEUE).status_code == (200 if allowed else 403)
    assert client.get(review_url(screening)).status_code == (200 if allowed else 403)
    response = client.post(review_url(screening), {"decision": "contacted", "note": "Called."})
    assert response.status_code == (302 if allowed else 403)
    screening.refresh_from_db()
    assert (screening.reviewed_at is not None) is allowed
    assert (not allowed) or not LogEntry.objects.filter(action=LogEntry.Action.ACCESS, actor=None).exists()
    index = client.get("/admin/").content.decode()
    change = client.get(f"/admin/screening/screening/{screening.pk}/change/").content.decode()
    assert (f'href="{QUEUE}"' in index) is allowed
    assert (f'href="{QUEUE}"' in change) is allowed


def test_signed_out_the_review_pages_ask_to_sign_in():
    screening = submitted_screening(personas.URGENT)
    for url in (QUEUE, review_url(screening)):
        response = Client().get(url)
        assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
    assert Client().post(review_url(screening), {"decision": "contacted", "note": "x"}).status_code == 302
    screening.refresh_from_db()
    assert screening.reviewed_at is None


# --- The treatment plans' admin ---------------------------------------------------------

PLANS = "/admin/booking/treatmentplan/"


def patient(n: int) -> Patient:
    return Patient.objects.create(full_name=f"Pat Number{n}", email=f"pat{n}@example.org", phone="5550100123")


def test_the_plan_list_shows_sessions_left_in_the_same_queries_for_2_and_20_plans():
    plans = [approved_plan(patient(n), "iv-infusion", sessions=6, min_hours_between=48) for n in range(2)]
    client, _user = signed_in(FRONT)
    client.get(PLANS)
    at_2 = queries_for(client, PLANS)
    for n in range(2, 20):
        approved_plan(patient(n), "esketamine-nasal", sessions=3)
    at_20 = queries_for(client, PLANS)
    assert at_2 == at_20
    html = client.get(f"{PLANS}?appointment_type__id__exact={plans[0].appointment_type_id}").content.decode()
    assert html.count('<td class="field-sessions_left">6</td>') == 2
    assert "at least 48 h" in html and "Pat Number1" in html and "Pat Number7" not in html


def test_plans_are_never_added_or_deleted_by_hand_and_their_page_is_read_only():
    plan = approved_plan(patient(1), "iv-infusion", sessions=6)
    client, _user = signed_in(MAN)
    assert client.get(f"{PLANS}add/").status_code == 403
    assert client.get(f"{PLANS}{plan.pk}/delete/").status_code == 403
    page = client.get(f"{PLANS}{plan.pk}/change/")
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    client.post(f"{PLANS}{plan.pk}/change/", {"sessions": "52", "ended_reason": "x"})
    plan.refresh_from_db()
    assert plan.sessions == 6 and plan.ended_reason == ""
    [entry] = LogEntry.objects.get_for_object(plan).filter(action=LogEntry.Action.ACCESS)
    assert entry.additional_data == {"shown": "treatment plan"}


@pytest.mark.parametrize(("role", "allowed"), [(None, False), (FRONT, False), (CLIN, True), (MAN, True)])
def test_ending_plans_asks_for_a_reason_and_is_for_clinicians_and_managers(role, allowed):
    plan = approved_plan(patient(1), "iv-infusion", sessions=6)
    client, _user = signed_in(role)
    listing = client.get(PLANS)
    assert listing.status_code == (200 if role else 403)
    assert ('value="end_plans"' in listing.content.decode()) is allowed
    action = {"action": "end_plans", "_selected_action": [plan.pk]}
    asked = client.post(PLANS, action)
    if allowed:
        assert "Reason" in asked.content.decode()
        refused = client.post(PLANS, {**action, "confirm": "yes", "reason": ""})
        assert '<a href="#id_reason">Please give the reason for ending the plans.</a>' in refused.content.decode()
    client.post(PLANS, {**action, "confirm": "yes", "reason": "Moved away"})
    plan.refresh_from_db()
    assert (plan.ended_at == NOW and plan.ended_reason == "Moved away") is allowed
    assert (plan.ended_at is None) is not allowed


def test_the_open_and_ended_filter():
    open_plan = approved_plan(patient(1), "iv-infusion")
    ended = approved_plan(patient(2), "iv-infusion")
    TreatmentPlan.objects.filter(pk=ended.pk).update(ended_at=timezone.now(), ended_reason="Done")
    client, _user = signed_in(CLIN)
    open_page = client.get(f"{PLANS}?state=open").content.decode()
    ended_page = client.get(f"{PLANS}?state=ended").content.decode()
    assert str(open_plan) in open_page and str(ended) not in open_page
    assert str(ended) in ended_page and str(open_plan) not in ended_page
