"""The e-mail templates' engine (telemed/jinja2.py): what a patient reads is escaped where it must be,
translated in the language of the moment, and a mistake in a template fails loudly."""

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.utils import translation
from jinja2 import FileSystemLoader, UndefinedError

from telemed import jinja2 as email_engine

TEMPLATES = FileSystemLoader(Path(settings.BASE_DIR) / "templates" / "jinja2")
CLINIC = {"name": "Harbor Health Clinic", "phone": "(555) 010-0199", "address": "100 Example Street"}


def render(env, name: str, **context) -> str:
    return env.get_template(name).render({"subject": "Hello", "clinic": CLINIC, **context})


def test_a_name_is_escaped_in_html_and_left_as_typed_in_text():
    env = email_engine.environment(loader=TEMPLATES)
    name = "Ann <b>O'Hara & Co</b>"

    html = render(env, "booking/email/base.html", recipient_name=name)
    text = render(env, "booking/email/base.txt", recipient_name=name)

    assert "Hello Ann &lt;b&gt;O&#39;Hara &amp; Co&lt;/b&gt;," in html
    assert "<b>O" not in html
    assert f"Hello {name}," in text
    # The template's own sentence is trusted, as written, in both: escaped once in HTML, not at all in text.
    assert "(Suicide &amp; Crisis Lifeline)" in html and "&amp;amp;" not in html
    assert "(Suicide & Crisis Lifeline)" in text


def test_sentences_are_in_the_language_active_when_rendering_each_language_compiled_apart(monkeypatch):
    def tagged(message):
        return f"[{translation.get_language()}] {message}"

    monkeypatch.setattr(email_engine, "gettext", tagged)
    env = email_engine.environment(loader=TEMPLATES)

    with translation.override("fr"):
        french = render(env, "booking/email/base.txt", recipient_name="Ann")
    with translation.override("es"):
        spanish = render(env, "booking/email/base.txt", recipient_name="Ann")
    with translation.override("fr"):
        french_again = render(env, "booking/email/base.txt", recipient_name="Ann")

    # The crisis line has nothing to fill in (translated when compiled), the greeting has the name.
    assert "[fr] If you are in crisis" in french and "[fr] Hello Ann," in french
    assert "[es] If you are in crisis" in spanish and "[fr]" not in spanish
    assert french_again == french


def test_a_changed_translation_file_is_read_again(monkeypatch):
    wording = {"text": "before"}
    monkeypatch.setattr(email_engine, "gettext", lambda message: f"{wording['text']}: {message}")
    env = email_engine.environment(loader=TEMPLATES)
    assert "before: If you are in crisis" in render(env, "booking/email/base.txt", recipient_name="Ann")

    wording["text"] = "after"
    email_engine.forget_translations(sender=None, file_path=Path("locale/fr/LC_MESSAGES/django.py"))
    assert "before: If you are in crisis" in render(env, "booking/email/base.txt", recipient_name="Ann")
    email_engine.forget_translations(sender=None, file_path=Path("locale/fr/LC_MESSAGES/django.mo"))
    assert "after: If you are in crisis" in render(env, "booking/email/base.txt", recipient_name="Ann")


def test_a_misspelt_variable_stops_the_email_instead_of_leaving_a_blank():
    env = email_engine.environment(loader=TEMPLATES)
    with pytest.raises(UndefinedError):
        render(env, "booking/email/base.txt")  # no recipient_name


def test_dates_and_times_are_written_for_each_zone_clock_change_and_language_even_when_kept():
    """The date and time filters keep what they wrote for the e-mail being built: the same instant
    in another zone, the repeated hour when clocks go back, or another language is written anew.
    ("U", seconds since 1970, tells the two 1:30 AMs of that night apart, as Django's zone names,
    which it leaves out in a repeated hour, cannot.)"""
    env = email_engine.environment(loader=TEMPLATES)
    written = env.from_string('{{ when|date("l, F j, Y") }} {{ when|time("g:i A") }} {{ when|date("U") }}')
    new_york, chicago = ZoneInfo("America/New_York"), ZoneInfo("America/Chicago")
    first = datetime(2026, 11, 1, 5, 30, tzinfo=UTC)  # 1:30 AM in New York, the first time round
    second = first + timedelta(hours=1)  # 1:30 AM again: clocks went back at 2
    assert second.astimezone(new_york) == datetime(2026, 11, 1, 1, 30, fold=1, tzinfo=new_york)
    for _ in range(2):  # written, then kept
        assert (
            written.render(when=first.astimezone(new_york))
            == f"Sunday, November 1, 2026 1:30 AM {first.timestamp():.0f}"
        )
        assert (
            written.render(when=second.astimezone(new_york))
            == f"Sunday, November 1, 2026 1:30 AM {second.timestamp():.0f}"
        )
        assert (
            written.render(when=first.astimezone(chicago))
            == f"Sunday, November 1, 2026 12:30 AM {first.timestamp():.0f}"
        )
        midday = datetime(2026, 12, 1, 17, 0, tzinfo=UTC)  # an hour like any other
        assert written.render(when=midday.astimezone(new_york)).startswith("Tuesday, December 1, 2026 12:00 PM")
        assert written.render(when=midday.astimezone(chicago)).startswith("Tuesday, December 1, 2026 11:00 AM")
        with translation.override("es"):
            assert written.render(when=first.astimezone(new_york)).startswith("domingo, noviembre 1, 2026 1:30 AM")
    # A date, or a datetime without a named zone, is written each time, as Django's filter writes it.
    assert env.from_string('{{ day|date("l, F j, Y") }}').render(day=date(2026, 12, 1)) == "Tuesday, December 1, 2026"
    assert written.render(when=first).startswith("Sunday, November 1, 2026 5:30 AM")
