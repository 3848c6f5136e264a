"""The error summary above a failed form, over HTTP: each entry names its question and links to an
element of the page with that id, which is where focus should land (the input, or the group)."""

from dataclasses import dataclass, field
from html.parser import HTMLParser

import pytest

from tests.booking.conftest import NOW, clinic_time
from tests.booking.test_booking import book
from tests.factories import ClinicianFactory
from tests.screening import personas
from tests.screening.test_flow import complete

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("celery_eager")]


@dataclass
class Summary:
    autofocus: bool = False
    heading: str = ""
    links: list[tuple[str, str]] = field(default_factory=list)  # (href, text)
    items: list[str] = field(default_factory=list)  # every entry's text, linked or not


class ErrorSummaryPage(HTMLParser):
    """The page's ids (each with its tag and attributes) and what its error summary says."""

    def __init__(self, html: str):
        super().__init__()
        self.elements: dict[str, tuple[str, dict]] = {}
        self.duplicate_ids: list[str] = []
        self.summaries: list[Summary] = []
        self._depth = 0  # open elements inside the summary
        self._link: list[str] | None = None
        self._item: list[str] | None = None
        self._heading: list[str] | None = None
        self.feed(html)
        self.close()

    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if element_id := attributes.get("id"):
            if element_id in self.elements:
                self.duplicate_ids.append(element_id)
            self.elements[element_id] = (tag, attributes)
        if element_id == "error-summary":
            self.summaries.append(Summary(autofocus="autofocus" in attributes))
            self._depth = 1
            return
        if not self._depth:
            return
        if tag not in self.VOID:
            self._depth += 1
        if tag == "h2":
            self._heading = []
        elif tag == "li":
            self._item = []
        elif tag == "a":
            self._link = [attributes.get("href", "")]

    def handle_endtag(self, tag):
        if not self._depth:
            return
        self._depth -= 1
        summary = self.summaries[-1]
        if tag == "h2" and self._heading is not None:
            summary.heading, self._heading = " ".join("".join(self._heading).split()), None
        elif tag == "li" and self._item is not None:
            summary.items.append(" ".join("".join(self._item).split()))
            self._item = None
        elif tag == "a" and self._link is not None:
            href, *text = self._link
            summary.links.append((href, " ".join("".join(text).split())))
            self._link = None

    def handle_data(self, data):
        for open_text in (self._heading, self._item, self._link):
            if open_text is not None:
                open_text.append(data)

    @property
    def summary(self) -> Summary:
        [summary] = self.summaries
        return summary

    def target(self, href: str) -> tuple[str, dict]:
        assert href.startswith("#"), href
        assert href[1:] in self.elements, f"nothing on the page has the id {href[1:]}"
        return self.elements[href[1:]]


def failed(client, url: str, data: dict) -> ErrorSummaryPage:
    response = client.post(url, data)
    assert response.status_code == 200, "the form was accepted"
    page = ErrorSummaryPage(response.content.decode())
    assert page.duplicate_ids == []
    assert page.summary.autofocus  # focus moves to it, with or without JavaScript
    return page


def test_about_step_names_each_field_and_links_to_its_input(client):
    data = {**personas.about(), "email": "", "phone": "12", "date_of_birth": "31/31/1985", "region": ""}
    page = failed(client, "/screening/step/about/", data)
    assert page.summary.heading == "Please correct 4 answers below."
    assert page.summary.links == [
        ("#id_email", "E-mail: This field is required."),
        ("#id_phone", "Phone: Please enter a phone number of 10 to 15 digits, for example (555) 010-0199."),
        ("#id_date_of_birth", "Date of birth: Please enter a real date, for example 1985-03-27."),
        ("#id_region", "State where you live: This field is required."),
    ]
    kinds = [page.target(href)[0] for href, _text in page.summary.links]
    assert kinds == ["input", "input", "input", "select"]
    for href, _text in page.summary.links:
        assert page.target(href)[1].get("aria-invalid") == "true"
    # What was typed is still there, errors and all.
    assert page.elements["id_full_name"][1]["value"] == "Alex Rivera"
    assert page.elements["id_phone"][1]["value"] == "12"
    assert page.elements["id_date_of_birth"][1]["value"] == "31/31/1985"


def test_a_questionnaire_links_each_unanswered_question_to_its_group(client):
    complete_first = personas.ELIGIBLE[:2]  # about, concerns
    for slug, data in complete_first:
        assert client.post(f"/screening/step/{slug}/", data).status_code == 302
    answers = {key: value for key, value in personas.phq9().items() if key not in {"item_2", "item_9"}}
    page = failed(client, "/screening/step/phq9/", answers)
    assert page.summary.heading == "Please correct 2 answers below."
    [(first_href, first_text), (ninth_href, ninth_text)] = page.summary.links
    assert (first_href, ninth_href) == ("#id_item_2", "#id_item_9")
    assert first_text.startswith("2. Feeling down, depressed, or hopeless")
    assert first_text.endswith("Please choose an answer for question 2.")
    assert ninth_text.startswith("9. Thoughts that you would be better off dead or of hurting yourself")
    for href, _text in page.summary.links:
        tag, attributes = page.target(href)
        assert (tag, attributes.get("tabindex")) == ("fieldset", "-1")  # the group, named by its legend
    # The answers given are kept.
    checked = {a["name"]: a["value"] for tag, a in page.elements.values() if tag == "input" and "checked" in a}
    assert checked == {key: value for key, value in answers.items() if key.startswith("item_")} | {"difficulty": "1"}


def test_a_form_level_error_is_listed_and_links_to_the_list_to_tick(client):
    for slug, data in personas.ELIGIBLE[:4]:  # about, concerns, phq9, gad7
        assert client.post(f"/screening/step/{slug}/", data).status_code == 302
    page = failed(client, "/screening/step/health/", {})
    assert page.summary.heading == "Please correct 1 answer below."
    assert page.summary.links == [("#id_conditions", "Please tick what applies, or “None of these apply to me”.")]
    assert page.target("#id_conditions")[0] == "fieldset"
    both = failed(client, "/screening/step/health/", {"conditions": ["seizures"], "none_apply": "on"})
    assert both.summary.links == [
        ("#id_conditions", "You ticked items and also “None of these”. Please check your answers.")
    ]
    assert "checked" in both.elements["id_conditions_12"][1] and "checked" in both.elements["id_none_apply"][1]


def test_a_checkbox_to_tick_links_to_the_box_itself(client):
    for slug, data in personas.ELIGIBLE[:-1]:
        assert client.post(f"/screening/step/{slug}/", data).status_code == 302
    page = failed(client, "/screening/step/consent/", {"accuracy": "on"})
    assert [href for href, _text in page.summary.links] == ["#id_privacy", "#id_not_emergency"]
    assert page.summary.links[0][1].startswith("I agree that the clinic stores my answers")
    assert page.summary.links[0][1].endswith("for nothing else. We need your agreement to store your answers.")
    for href, _text in page.summary.links:
        tag, attributes = page.target(href)
        assert (tag, attributes["type"]) == ("input", "checkbox")


def test_booking_details_name_and_link_each_field(client, time_machine):
    time_machine.move_to(NOW, tick=False)
    clinician = ClinicianFactory()
    screening = complete(client, personas.ELIGIBLE)
    client.get(f"/book/?screening={screening.token}")
    slot = f"{clinic_time(8, 10).isoformat()}|{clinician.pk}"
    assert client.post("/book/consultation/", {"slot": slot})["Location"] == "/book/consultation/details/"
    page = failed(client, "/book/consultation/details/", {"full_name": "  ", "email": "alex@", "phone": "(555) 010"})
    assert page.summary.links == [
        ("#id_full_name", "Full name: This field is required."),
        ("#id_email", "E-mail: Enter a valid email address."),
        ("#id_phone", "Phone: Please enter a phone number of 10 to 15 digits, for example (555) 010-0199."),
    ]
    for href, _text in page.summary.links:
        assert page.target(href)[0] == "input"
    assert page.elements["id_email"][1]["value"] == "alex@"


def test_cancel_form_summary_links_to_the_reason(client, time_machine):
    time_machine.move_to(NOW, tick=False)
    appointment = book(ClinicianFactory(), clinic_time(8, 10))
    page = failed(client, f"/appointments/{appointment.token}/cancel/", {"reason": "x" * 501})
    [(href, text)] = page.summary.links
    assert href == "#id_reason" and text.startswith("Reason (optional): Ensure this value has at most 500 characters")
    assert page.target(href)[0] == "textarea"


def test_no_summary_before_anything_is_sent(client):
    page = ErrorSummaryPage(client.get("/screening/step/about/").content.decode())
    assert page.summaries == []
