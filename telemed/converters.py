"""What addresses, sessions and forms carry (the patients' secret tokens, ids and counts), checked
before any query."""

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


# Ids are PostgreSQL bigints; a longer number would fail in the query rather than match nobody.
MAX_ID = 2**63 - 1


def whole_number(text: str, largest: int = MAX_ID) -> int | None:
    """A number written in ASCII digits, up to `largest`; else None. (str.isdigit() alone lets
    "²" and "٣" through: int() refuses the first and reads the second as 3.)"""
    if not (text.isascii() and text.isdigit()) or len(text) > len(str(largest)):
        return None
    number = int(text)
    return number if number <= largest else None


def is_token(value: object) -> bool:
    """Whether `value` could be a token; one that cannot is never looked up."""
    return isinstance(value, str) and TOKEN.fullmatch(value) is not None
