"""The patients' secret tokens as addresses, sessions and forms carry them, checked before any query."""

import re

from django.urls import register_converter


class TokenConverter:
    """A token as models.new_token() draws them (URL-safe base64), within what the columns hold.

    Anything else in that part of the address is a 404 before a view or the database sees it:
    PostgreSQL refuses a NUL in a query, and a 5,000-character "token" needs no index lookup.
    """

    regex = "[A-Za-z0-9_-]{16,64}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(TokenConverter, "token")

TOKEN = re.compile(TokenConverter.regex)


def is_token(value: object) -> bool:
    """Whether `value` could be a token; one that cannot is never looked up."""
    return isinstance(value, str) and TOKEN.fullmatch(value) is not None
