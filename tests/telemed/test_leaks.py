"""Nothing leaks: no token, query string or e-mail address in any log line; personal pages are
never stored by a browser or a proxy; no page may use a camera, microphone, location or payment."""

import io
import logging

import pytest
from django.test import Client

from telemed.logs import OncePerMinute, RedactFilter, redact
from tests.booking.conftest import (
    clinic_time,
    frozen_now,  # noqa: F401 - the booking tests' clock
)
from tests.booking.test_booking import book
from tests.factories import ClinicianFactory
from tests.screening import personas
from tests.screening.test_tasks_and_admin import submitted_screening

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_now", "celery_eager")]


@pytest.fixture
def console():
    """What the project's own log handler (LOGGING's "console") writes, as operators read it."""
    handler = next(h for h in logging.getLogger().handlers if any(isinstance(f, RedactFilter) for f in h.filters))
    stream = io.StringIO()
    previous = handler.setStream(stream)
    yield stream
    handler.setStream(previous)


@pytest.fixture
def visit():
    return book(ClinicianFactory(), clinic_time(9, 10))


def test_a_csrf_failure_on_a_patients_link_logs_the_failure_without_the_token(console, visit):
    response = Client(enforce_csrf_checks=True).post(f"/appointments/{visit.token}/cancel/", {"reason": "x"})

    assert response.status_code == 403
    written = console.getvalue()
    assert "Forbidden (CSRF" in written and "/appointments/[token]/cancel/" in written
    assert visit.token not in written


def test_a_missing_page_under_a_token_logs_no_token(console, visit):
    screening = submitted_screening(personas.ELIGIBLE)
    logging.getLogger("django.request").warning("Not Found: %s", f"/screening/result/{screening.token}/")
    Client().get(f"/appointments/{visit.token}/nothing-here/")

    assert screening.token not in console.getvalue() and visit.token not in console.getvalue()


def test_an_error_with_a_patients_address_in_its_traceback_is_logged_without_it(console, visit):
    try:
        raise ValueError(f"could not send to {visit.patient.email} at /appointments/{visit.token}/")
    except ValueError:
        logging.getLogger("booking.services").exception("reminder %s failed", 7)

    written = console.getvalue()
    assert "reminder 7 failed" in written and "ValueError" in written
    assert visit.patient.email not in written and visit.token not in written


@pytest.mark.parametrize(
    ("line", "kept"),
    [
        ("GET /book/?screening=Xy12abcdefGHIJKLmnopqrstuvwxyz0123456 HTTP/1.1", "GET /book/?[query] HTTP/1.1"),
        ("Not Found: /appointments/%00abc/", "Not Found: /appointments/[token]/"),
        ("sent to Jane.Doe+clinic@mail.example.org", "sent to [e-mail]"),
        ("claim Ab3dE5gH7jK9mN1pQ3sT5vW7yZ9bC1dF3h", "claim [token]"),
        # Names in a traceback are not tokens; ids and counts stay as they are.
        ("in test_a_stranger_typing_a_patients_email_in_other_letters", None),
        ("dispatch: 500 reminders queued, reminder 12345", None),
    ],
)
def test_redaction_of_one_line(line, kept):
    assert redact(line) == (line if kept is None else kept)


def test_a_cache_outage_is_said_once_a_minute_not_once_a_call():
    seen = OncePerMinute(seconds=60)
    record = logging.LogRecord("telemed.cache", logging.ERROR, __file__, 1, "Exception ignored", None, None)
    other = logging.LogRecord("telemed.cache", logging.ERROR, __file__, 1, "Something else", None, None)

    assert [seen.filter(record) for _ in range(50)] == [True] + [False] * 49
    assert seen.filter(other)  # another message is its own line
    seen.last = {key: when - 61 for key, when in seen.last.items()}  # a minute on
    assert seen.filter(record)


def personal_pages(visit):
    screening = submitted_screening(personas.ELIGIBLE)
    return [
        f"/appointments/{visit.token}/",
        f"/appointments/{visit.token}/calendar.ics",
        f"/appointments/{visit.token}/cancel/",
        f"/appointments/{visit.token}/reschedule/",
        f"/appointments/{visit.token}/ride/",
        f"/screening/result/{screening.token}/",
    ]


def test_personal_pages_and_the_calendar_file_are_never_stored(visit):
    for page in personal_pages(visit):
        response = Client().get(page)
        assert response.status_code == 200, page
        assert "no-store" in response["Cache-Control"], page
        assert "private" in response["Cache-Control"], page


@pytest.mark.parametrize("page", ["/", "/learn/", "/book/", "/screening/", "/admin/login/", "/api/slots"])
def test_no_page_may_use_camera_microphone_location_or_payment(page):
    policy = Client().get(page)["Permissions-Policy"]
    for feature in ("camera=()", "microphone=()", "geolocation=()", "payment=()"):
        assert feature in policy


def test_gunicorns_own_error_log_loses_the_token_and_address_it_quotes(capsys):
    """gunicorn logs to stderr through handlers of its own, outside Django's LOGGING: a request
    that fails there ("Error handling request <uri>") would print a patient's token."""
    import runpy
    from pathlib import Path

    from gunicorn.config import Config
    from gunicorn.glogging import Logger
    from gunicorn.util import load_class

    settings = runpy.run_path(str(Path(__file__).resolve().parents[2] / "gunicorn.conf.py"))
    config = Config()
    config.set("logger_class", settings["logger_class"])
    logger_class = load_class(config.logger_class, default="gunicorn.glogging.Logger", section="gunicorn.loggers")
    assert issubclass(logger_class, Logger)
    token = "Q3m9xZk2LpW8vT5rN1bH7cJ4dF6gS0aEyU"
    logger = logger_class(config)
    logger.error("Error handling request /appointments/%s/cancel/?by=%s", token, "alex@example.org")
    logged = capsys.readouterr().err
    assert "Error handling request /appointments/[token]/cancel/?[query]" in logged
    assert token not in logged and "alex@example.org" not in logged
