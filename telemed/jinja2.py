"""The Jinja2 environment of patient e-mails (the "email" engine in TEMPLATES).

Workers render these e-mails by the thousand when many reminders fall due at once: Jinja2 compiles
a template to Python once, where Django's engine walks its nodes on every render (0.64 of the 1.3 ms
of CPU an e-mail took to build; bench/README.md). The pages of the site stay on Django's engine.

As in Django's templates: every sentence through gettext (a literal is trusted, the values put into
it are escaped in HTML), HTML autoescaped, text not, a missing variable an error rather than a blank.
"""

from django.utils import dateformat
from django.utils.translation import gettext, ngettext
from jinja2 import Environment, StrictUndefined, select_autoescape


def environment(**options) -> Environment:
    options.update(
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=True),
        extensions=["jinja2.ext.i18n"],
        keep_trailing_newline=True,
        undefined=StrictUndefined,
    )
    env = Environment(**options)  # noqa: S701 - autoescape is set just above, by file type
    env.install_gettext_callables(gettext, ngettext, newstyle=True)
    # Django's date and time formats ("l, F j, Y", "g:i A"), on datetimes already in the patient's zone.
    env.filters.update(date=dateformat.format, time=dateformat.time_format)
    return env
