"""django-csp's middleware, with the policy built once instead of on every response.

django-csp rebuilds the Content-Security-Policy header from the settings for every
response (csp.utils.build_policy: a tenth of a `GET me/`'s CPU, docs/benchmarks.md,
"Issue 11: after"), because a response or a template may change it: a nonce taken by a
template, or a view decorated with csp_update / csp_replace / csp_exempt. None of our
API answers does, so the header of a response without any of those is the one built
from the settings, built once and rebuilt when a test changes the settings. Any other
response goes through django-csp's own code, unchanged.
"""

import functools

from csp.constants import HEADER, HEADER_REPORT_ONLY
from csp.middleware import CheckableLazyObject
from csp.middleware import CSPMiddleware as DjangoCSPMiddleware
from csp.utils import build_policy
from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver

# What a view, a decorator or a template may set to change a response's policy.
_PER_RESPONSE = (
    "_csp_config",
    "_csp_update",
    "_csp_replace",
    "_csp_exempt",
    "_csp_config_ro",
    "_csp_update_ro",
    "_csp_replace_ro",
    "_csp_exempt_ro",
)


@functools.cache
def _settings_policy() -> tuple[str, tuple[str, ...], str, tuple[str, ...]]:
    """The header, its excluded path prefixes, and the same for report-only."""
    policy = getattr(settings, "CONTENT_SECURITY_POLICY", None) or {}
    report_only = getattr(settings, "CONTENT_SECURITY_POLICY_REPORT_ONLY", None) or {}
    return (
        build_policy(),
        tuple(policy.get("EXCLUDE_URL_PREFIXES", None) or ()),
        build_policy(report_only=True),
        tuple(report_only.get("EXCLUDE_URL_PREFIXES", None) or ()),
    )


@receiver(setting_changed)
def _settings_policy_forget(*, setting, **kwargs):
    if setting.startswith("CONTENT_SECURITY_POLICY") or setting == "DEBUG":
        _settings_policy.cache_clear()


class CSPMiddleware(DjangoCSPMiddleware):
    def process_response(self, request, response):
        if getattr(request, "_csp_nonce", None) is not None or any(
            hasattr(response, name) for name in _PER_RESPONSE
        ):
            return super().process_response(request, response)
        if settings.DEBUG and response.status_code in (404, 500):
            return response  # django-csp leaves Django's debug pages alone
        header, excluded, header_ro, excluded_ro = _settings_policy()
        path = request.path_info
        if header and HEADER not in response and not path.startswith(excluded):
            response[HEADER] = header
        if header_ro and HEADER_REPORT_ONLY not in response and not path.startswith(excluded_ro):
            response[HEADER_REPORT_ONLY] = header_ro
        # As django-csp does: a nonce asked for after the header was written is an error.
        request.csp_nonce = CheckableLazyObject(self._csp_nonce_post_response)
        return response
