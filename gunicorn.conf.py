"""gunicorn's settings, read by default when gunicorn starts in the project folder."""

import os
import sys

bind = f"0.0.0.0:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "3"))
# No access log: request lines carry URLs with booking tokens. Errors still go to stderr, with
# tokens, query strings and e-mail addresses taken out as in Django's log (telemed/gunicorn_logs.py).
accesslog = None
logger_class = "telemed.gunicorn_logs.RedactingLogger"
timeout = 30


def on_starting(server):
    """Refuse to start, in one line, when the configuration or a service is wrong."""
    from telemed.preflight import problems_at_start

    problems = problems_at_start()
    if problems:
        sys.exit("\n".join(problems))
