"""Rate limits on the public forms (django-ratelimit, counted in the cache; settings.RATE_LIMITS).

A view calls `over_limit` where the action it limits happens (a screening started, submitted, a
booking confirmed), and answers `rate_limited` when it says so: a kind page, never a dead end.
"""

import ipaddress

from django.conf import settings
from django_ratelimit.core import is_ratelimited


def client_address(request) -> str:
    """The visitor's address: behind TRUSTED_PROXY_HOPS proxies, the entry the nearest of them
    added to X-Forwarded-For (those before it are the client's to write, so not trusted)."""
    hops = settings.TRUSTED_PROXY_HOPS
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if hops and len(forwarded) >= hops and _is_address(forwarded[-hops]):
        return forwarded[-hops]
    return request.META.get("REMOTE_ADDR") or "0.0.0.0"  # noqa: S104 - a count's key, not a bind address


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def over_limit(request, group: str, *, by: str | None = None) -> bool:
    """Count this request against `group`'s limit (settings.RATE_LIMITS) per client address, or
    per `by` when given (an e-mail address typed, in any letter case); True when over it. The
    cache holds a hash of the key, never the address itself."""
    key = "ip" if by is None else (lambda _group, _request: by.strip().lower())
    return is_ratelimited(request, group=group, key=key, rate=settings.RATE_LIMITS[group], increment=True)
