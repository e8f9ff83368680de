"""Where a webhook may be sent: the rules against server-side request forgery (SSRF).

A webhook URL is chosen by a user, and the worker POSTs to it from inside our network,
so without these rules a user could make the worker reach the database, the metadata
service of the cloud (169.254.169.254) or anything else on a private network. The rules:

- `https` only, no credentials in the URL (they would be answered back in every GET);
- every address the name resolves to must be public (not loopback, private, link-local,
  shared, reserved, multicast...), checked *when connecting*, on the addresses the
  connection then uses (integrations.delivery's resolver): a name that resolved to a
  public address when the webhook was saved and to 10.0.0.1 now (DNS rebinding) is
  refused, because the check and the connection use one resolution;
- no redirects are followed (a public endpoint could redirect to a private one).

WEBHOOK_ALLOW_PRIVATE_TARGETS=true lifts the address rule and allows `http` (development
and tests, where the receiver is on 127.0.0.1). Never in production.
"""

import ipaddress
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import URLValidator

URL_MAX_LENGTH = 2000


class TargetRefused(Exception):
    """The endpoint's address is not one the worker may connect to."""


def address_is_public(address: str) -> bool:
    """True for a globally routable unicast address. An IPv4 address written as IPv6
    (::ffff:10.0.0.1) is judged as the IPv4 address it is."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # drop an IPv6 zone (fe80::1%eth0)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def address_ensure_allowed(address: str, *, allow_private: bool) -> None:
    if not allow_private and not address_is_public(address):
        raise TargetRefused(f"{address} is not a public address")


def ip_literal(host: str) -> str | None:
    """The host as an address if it is one (`10.0.0.1`, `[::1]`), else None."""
    try:
        return str(ipaddress.ip_address(host.strip("[]")))
    except ValueError:
        return None


def url_problem(url: str, *, allow_private: bool) -> str | None:
    """Why `url` cannot be a webhook endpoint, or None. The address rule for names is
    checked again at every connection; here only what the URL itself shows."""
    schemes = ["https", "http"] if allow_private else ["https"]
    if len(url) > URL_MAX_LENGTH:
        return f"Ensure this field has no more than {URL_MAX_LENGTH} characters."
    try:
        URLValidator(schemes=schemes)(url)
    except DjangoValidationError:
        if urlsplit(url).scheme.lower() == "http" and not allow_private:
            return "The URL must use https."
        return "Enter a valid https URL."
    parts = urlsplit(url)
    if parts.username is not None or parts.password is not None:
        return "Credentials in the URL are not allowed; put a token in the path or query."
    literal = ip_literal(parts.hostname or "")
    if literal is not None and not allow_private and not address_is_public(literal):
        return "The URL must point to a public address."
    if not allow_private and (parts.hostname or "").rstrip(".").lower() == "localhost":
        return "The URL must point to a public address."
    return None
