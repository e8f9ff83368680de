"""pomodoro.csp: the policy built once is exactly django-csp's, and whatever can change
a response's policy still does."""

import pytest
from csp.constants import NONCE
from csp.middleware import CSPMiddleware as DjangoCSPMiddleware
from csp.utils import build_policy
from django.http import HttpResponse
from django.test import RequestFactory, override_settings

from pomodoro.csp import CSPMiddleware


def through(middleware_class, response: HttpResponse, *, path: str = "/api/v1/me/"):
    request = RequestFactory().get(path)
    middleware = middleware_class(lambda request: response)
    return middleware(request)


def test_an_api_answer_gets_the_policy_of_the_settings():
    answer = through(CSPMiddleware, HttpResponse())
    assert answer["Content-Security-Policy"] == build_policy()
    assert "frame-ancestors 'none'" in answer["Content-Security-Policy"]
    assert "Content-Security-Policy-Report-Only" not in answer


@pytest.mark.parametrize(
    "attribute, value",
    [
        ("_csp_update", {"img-src": ["https://images.example.com"]}),
        ("_csp_replace", {"script-src": ["https://scripts.example.com"]}),
        ("_csp_exempt", True),
    ],
)
def test_a_response_that_changes_its_policy_gets_django_csps_answer(attribute, value):
    ours, theirs = HttpResponse(), HttpResponse()
    setattr(ours, attribute, value)
    setattr(theirs, attribute, value)

    ours = through(CSPMiddleware, ours)
    theirs = through(DjangoCSPMiddleware, theirs)

    assert ours.get("Content-Security-Policy") == theirs.get("Content-Security-Policy")
    assert ours.get("Content-Security-Policy") != build_policy()


def test_a_changed_setting_is_followed():
    before = through(CSPMiddleware, HttpResponse())["Content-Security-Policy"]
    policy = {"DIRECTIVES": {"default-src": ["'none'"]}}
    with override_settings(CONTENT_SECURITY_POLICY=policy):
        assert through(CSPMiddleware, HttpResponse())["Content-Security-Policy"] == (
            "default-src 'none'"
        )
    assert through(CSPMiddleware, HttpResponse())["Content-Security-Policy"] == before


def test_a_nonce_taken_before_the_header_is_written_goes_through_django_csp():
    nonce = {"DIRECTIVES": {"script-src": ["'self'", NONCE]}}

    def view(request):
        request.taken = str(request.csp_nonce)
        return HttpResponse()

    with override_settings(CONTENT_SECURITY_POLICY=nonce):
        request = RequestFactory().get("/")
        answer = CSPMiddleware(view)(request)

    assert f"script-src 'self' 'nonce-{request.taken}'" in answer["Content-Security-Policy"]
