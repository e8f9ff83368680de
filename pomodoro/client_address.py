"""The client's address, for the rate limits (pomodoro.throttling) and the logs.

Its own module, free of models and tokens, because the logging configuration loads the
access log (pomodoro.request_log) before the apps are ready.
"""

import ipaddress
import re

from rest_framework.throttling import BaseThrottle

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

PORT_SUFFIX = re.compile(r"(:[0-9]{1,5})?")
_drf_throttle = BaseThrottle()  # for its get_ident, which keeps no state


def _ip_of(text: str | None) -> IPAddress | None:
    """The address in `text`, with or without a port ("192.0.2.7:5678",
    "[2001:db8::7]:443"); an IPv4-mapped IPv6 address is its IPv4 one. None for junk."""
    text = (text or "").strip()
    host = text
    if text.startswith("["):  # [IPv6] or [IPv6]:port
        host, closed, rest = text[1:].partition("]")
        if not closed or not PORT_SUFFIX.fullmatch(rest):
            return None
    elif text.count(":") == 1:  # IPv4:port
        host, port = text.split(":")
        if not PORT_SUFFIX.fullmatch(f":{port}"):
            return None
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return None
    if address.version == 6 and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def client_ip(request) -> IPAddress | None:
    """The client's address, as DRF's get_ident finds it: REMOTE_ADDR, or behind
    NUM_PROXIES proxies the X-Forwarded-For entry that many from its right end. An entry
    that is no address (a proxy's junk) falls back to REMOTE_ADDR; None if that is none
    either (a Unix socket)."""
    remote_addr = request.META.get("REMOTE_ADDR")
    address = _ip_of(_drf_throttle.get_ident(request))
    return address if address is not None else _ip_of(remote_addr)


def client_address(request) -> str | None:
    """client_ip as text, for logs (REMOTE_ADDR as it is, when it is no address)."""
    address = client_ip(request)
    return str(address) if address is not None else request.META.get("REMOTE_ADDR")
