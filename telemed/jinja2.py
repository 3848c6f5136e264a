"""The Jinja2 environment of patient e-mails (the "email" engine in TEMPLATES).

Workers render these e-mails by the thousand when many reminders fall due at once: Jinja2 compiles
a template to Python once, where Django's engine walks its nodes on every render (0.64 of the 1.3 ms
of CPU an e-mail took to build; bench/README.md). The pages of the site stay on Django's engine.

As in Django's templates: every sentence through gettext (a literal is trusted, the values put into
it are escaped in HTML), HTML autoescaped, text not, a missing variable an error rather than a blank.
Django's makemessages does not read Jinja2 templates: when the site gains a second language, their
gettext() strings are extracted with Babel's Jinja2 extractor (jinja2.ext.babel_extract).
"""

from datetime import datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from django.dispatch import receiver
from django.utils import dateformat
from django.utils.autoreload import file_changed
from django.utils.translation import get_language, gettext, ngettext, override
from jinja2 import Environment, StrictUndefined, select_autoescape
from jinja2.ext import Extension
from jinja2.lexer import TOKEN_DATA, Token

# The token shapes of `{{ gettext("…") }}` and `{{ gettext("…")|upper }}`: a sentence with nothing
# to fill in.
_SENTENCE = ("variable_begin", "name", "lparen", "string", "rparen", "variable_end")
_UPPER_SENTENCE = ("variable_begin", "name", "lparen", "string", "rparen", "pipe", "name", "variable_end")


class TranslateWhenCompiled(Extension):
    """A sentence with nothing to fill in is translated once, when the template is compiled for a
    language, instead of at every render: an e-mail holds some forty, and the calls were half the
    time of rendering one (bench/README.md). The text is what gettext() gives at render time (a
    translation is trusted, as a literal is); sentences with values go through gettext() as usual."""

    def filter_stream(self, stream):
        tokens = list(stream)
        index = 0
        while index < len(tokens):
            found = self._sentence_at(tokens, index)
            if found is None:
                yield tokens[index]
                index += 1
            else:
                text, index_after = found
                yield Token(tokens[index].lineno, TOKEN_DATA, text)
                index = index_after

    def _sentence_at(self, tokens, index):
        shape = tuple(token.type for token in tokens[index : index + len(_UPPER_SENTENCE)])
        if tokens[index + 1 : index + 2] and tokens[index + 1].value == "gettext":
            if shape[: len(_SENTENCE)] == _SENTENCE:
                return self._translate(tokens[index + 3].value), index + len(_SENTENCE)
            if shape == _UPPER_SENTENCE and tokens[index + 6].value == "upper":
                return self._translate(tokens[index + 3].value).upper(), index + len(_UPPER_SENTENCE)
        return None

    def _translate(self, message: str) -> str:
        with override(self.environment.language):
            return gettext(message) % {}  # as Jinja's gettext(): always a format string


class EmailEnvironment(Environment):
    """Templates compiled once per language (each language's own overlay and template cache)."""

    language: str | None = None  # the language of an overlay; the base hands renders to those

    def __init__(self, **options):
        super().__init__(**options)
        self.overlays: dict[str | None, EmailEnvironment] = {}

    def get_template(self, name, parent=None, globals=None):  # noqa: A002 - Jinja2's signature
        if self.overlayed:  # a language's overlay (Jinja2 marks the environments overlay() makes)
            return super().get_template(name, parent, globals)
        language = get_language()
        overlay = self.overlays.get(language)
        if overlay is None:
            overlay = self.overlay(cache_size=getattr(self.cache, "capacity", 400))
            overlay.language = language
            self.overlays[language] = overlay
        return overlay.get_template(name, parent, globals)


_environments: list[EmailEnvironment] = []


def format_date(value, format_string: str) -> str:
    """Django's `date` filter: dateformat.format(), kept per value, format and language. The text
    and the HTML of an e-mail format the same times: each call took some 60-120 us here, and an
    e-mail made six (bench/README.md)."""
    return _format(dateformat.format, value, format_string)


def format_time(value, format_string: str) -> str:
    """Django's `time` filter, kept like format_date()."""
    return _format(dateformat.time_format, value, format_string)


def _format(formatter, value, format_string: str) -> str:
    # Kept only for a datetime in a named zone (the e-mails' own: each visit's time in the patient's
    # zone), which says all that its text depends on but the language. An aware datetime equals
    # another at the same instant in any zone, and in one zone the same wall time whatever its fold
    # (the hour repeated when clocks go back): the key tells both apart. Anything else (a naive
    # datetime, a date: written with settings that may change) is formatted each time.
    if isinstance(value, datetime) and isinstance(value.tzinfo, ZoneInfo):
        return _formatted(formatter, value, value.tzinfo, value.fold, format_string, get_language())
    return formatter(value, format_string)


@lru_cache(maxsize=64)  # the few values of the e-mail being written
def _formatted(formatter, value: datetime, zone: ZoneInfo, fold: int, format_string: str, language: str) -> str:
    return formatter(value, format_string)


@receiver(file_changed)
def forget_translations(sender, file_path, **kwargs) -> None:
    """runserver reloads translations without restarting when a .mo file changes: so do these."""
    if file_path.suffix == ".mo":
        for env in _environments:
            env.overlays.clear()
        _formatted.cache_clear()  # month and day names


def environment(**options) -> Environment:
    options.update(
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=True),
        extensions=["jinja2.ext.i18n", TranslateWhenCompiled],
        keep_trailing_newline=True,
        undefined=StrictUndefined,
    )
    env = EmailEnvironment(**options)  # noqa: S701 - autoescape is set just above, by file type
    env.install_gettext_callables(gettext, ngettext, newstyle=True)
    # Django's date and time formats ("l, F j, Y", "g:i A"), on datetimes already in the patient's zone.
    env.filters.update(date=format_date, time=format_time)
    _environments.append(env)
    return env
