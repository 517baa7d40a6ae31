"""The address a request came from, for counting failed sign-ins (django-axes' ``AXES_CLIENT_IP_CALLABLE``).

Behind a proxy or load balancer every request reaches the app from the proxy's address, so counting failures by
``REMOTE_ADDR`` alone would put everyone behind it in one bucket. A header such as ``X-Forwarded-For`` can carry
the real address, but a client can write anything in it: only the entries the operator's own proxies added can be
believed. So the header is read only when it is configured (``TRUSTED_PROXY_HEADER``), and the address taken is the
one the outermost trusted proxy saw, ``TRUSTED_PROXY_COUNT`` entries from the right. Otherwise, or when the header
is missing or holds no valid address there, the address is ``REMOTE_ADDR``.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def client_address(request: HttpRequest) -> str | None:
    """The client's address: from the trusted proxy header when one is configured, else ``REMOTE_ADDR``."""
    remote_addr = request.META.get("REMOTE_ADDR")
    header, count = settings.TRUSTED_PROXY_HEADER, settings.TRUSTED_PROXY_COUNT
    if not header or count < 1:
        return remote_addr
    entries = [entry.strip() for entry in request.META.get(meta_key(header), "").split(",")]
    if len(entries) < count:
        return remote_addr
    candidate = entries[-count]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote_addr


def meta_key(header: str) -> str:
    """Where Django keeps an HTTP header in ``request.META``: ``X-Forwarded-For`` is ``HTTP_X_FORWARDED_FOR``."""
    return "HTTP_" + header.strip().upper().replace("-", "_")
