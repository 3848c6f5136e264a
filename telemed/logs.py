"""What reaches the log: no patient data. Every handler in LOGGING runs `RedactFilter`, so a
line from any logger (Django's CSRF and request lines, Celery, ours) loses the tokens, query
strings and e-mail addresses it quoted; `OncePerMinute` keeps an outage to a line a minute."""

import logging
import re
import time

# A patient's own pages: /appointments/<token>/…, /screening/result/<token>/, /my/<token>/….
TOKEN_PATH = re.compile(r"(/(?:appointments|screening/result|my)/)[^/\s?#'\"]+")
QUERY = re.compile(r"(/[^\s?'\"]*)\?[^\s'\"]*")
# A token elsewhere (secrets.token_urlsafe: mixed case and digits, 32 characters or more); not
# a long snake_case name in a traceback.
TOKEN = re.compile(r"(?<![\w-])(?=[\w-]*\d)(?=[\w-]*[A-Z])(?=[\w-]*[a-z])[\w-]{32,}(?![\w-])")
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


def redact(text: str) -> str:
    text = TOKEN_PATH.sub(r"\1[token]", text)
    text = QUERY.sub(r"\1?[query]", text)
    text = TOKEN.sub("[token]", text)
    return EMAIL.sub("[e-mail]", text)


class RedactFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # arguments that do not fit the message: logging says so itself
            return True
        record.msg, record.args = redact(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


class OncePerMinute(logging.Filter):
    """The same message from the same logger at most once a minute (a cache that is down fails
    every call of every page)."""

    def __init__(self, name: str = "", seconds: float = 60):
        super().__init__(name)
        self.seconds = seconds
        self.last: dict[tuple[str, str], float] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        key, now = (record.name, str(record.msg)), time.monotonic()
        if now - self.last.get(key, float("-inf")) < self.seconds:
            return False
        self.last[key] = now
        return True
