"""gunicorn's own error log through the same redaction as Django's (telemed/logs.py).

gunicorn writes "Error handling request /appointments/<token>/…" and similar lines to its
"gunicorn.error" logger, whose handlers it sets up itself, outside Django's LOGGING: without
this they would carry a patient's token to stderr. gunicorn.conf.py names this class."""

from gunicorn.glogging import Logger  # type: ignore[import-untyped]  # gunicorn ships no types

from telemed.logs import RedactFilter


class RedactingLogger(Logger):
    def setup(self, cfg) -> None:
        super().setup(cfg)
        for handler in self.error_log.handlers:
            handler.addFilter(RedactFilter())
