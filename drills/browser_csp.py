"""Drill: every page the service serves works in a real browser under its
Content-Security-Policy.

Starts the service on embedded defaults in a temporary data folder with a staff
account, and opens each page in headless Chromium (Playwright): the web app, Swagger
UI, Redoc, the admin (logged in through its own login form) and the browsable API. On
each it records every `securitypolicyviolation` event from the first script on, and
waits until the page has drawn what it is for (the operations of the schema, the
admin's forms). Prints what it saw; exits 1 on a violation or a page that never drew.
(The web app's socket under the policy: drills/browser_live.py.)

    .venv/bin/python -m drills.browser_csp     (needs: apt-get install chromium)
"""

import os
import sys
import time

from drills.browser import chromium, running_service

PORT = int(os.environ.get("DRILL_PORT", "8793"))
BASE = f"http://127.0.0.1:{PORT}"
EMAIL, PASSWORD = "staff@example.com", "a sturdy passphrase 42"

# Blocked on purpose: Redoc's footer links a logo on its makers' site; the docs load
# nothing from outside (tests/test_operations.py), so the image is refused.
EXPECTED_BLOCKS = {("img-src", "https://cdn.redoc.ly/redoc/logo-mini.svg")}

RECORD_VIOLATIONS = """
window.cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.cspViolations.push(
    {directive: event.effectiveDirective, blocked: event.blockedURI, sample: event.sample,
     source: `${event.sourceFile}:${event.lineNumber}:${event.columnNumber}`});
});
"""

# (path, what shows the page has drawn what it is for)
PAGES = [
    ("/", "!!document.querySelector('main button') && !!window.fetch"),
    ("/api/docs/", "document.querySelectorAll('.opblock').length > 20"),
    ("/api/redoc/", "document.querySelectorAll('[data-section-id]').length > 20"),
    ("/admin/login/", "!!document.querySelector('#login-form')"),
    ("/api-auth/login/", "!!document.querySelector('form')"),
    # logged in from here on
    ("/admin/", "!!document.querySelector('#content-main')"),
    # the admin's own scripts ran (django.jQuery is defined by its jquery.init.js)
    (
        "/admin/accounts/user/",
        "!!window.django?.jQuery && !!document.querySelector('#action-toggle')",
    ),
    (
        "/admin/accounts/user/1/change/",
        "!!window.django?.jQuery && !!document.querySelector('#user_form')",
    ),
    (
        "/admin/accounts/user/add/",
        "!!window.django?.jQuery && !!document.querySelector('#user_form')",
    ),
    ("/api/v1/me/", "!!document.querySelector('.response-info')"),
    # the web app, signed in by the admin's session: the timer drawn
    ("/", "!!document.querySelector('[role=timer]')"),
]


def drawn_in_time(page, drawn: str, timeout: float = 15) -> bool:
    """Polled with page.evaluate (the DevTools protocol, outside the page's policy):
    wait_for_function would evaluate the expression inside the page, where the policy
    refuses eval."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if page.evaluate(drawn):
            return True
        page.wait_for_timeout(100)
    return False


def drill(page) -> list[str]:
    failures = []
    page.add_init_script(RECORD_VIOLATIONS)
    for path, drawn in PAGES:
        if path == "/admin/":
            # Log in as a person would: the admin's form, posted by the browser.
            page.goto(BASE + "/admin/login/")
            page.fill("#id_username", EMAIL)
            page.fill("#id_password", PASSWORD)
            page.click("#login-form [type=submit]")
            page.wait_for_url(BASE + "/admin/")
        page.goto(BASE + path)
        drew = drawn_in_time(page, drawn)
        page.wait_for_timeout(500)  # late scripts and workers
        violations = page.evaluate("window.cspViolations") or []
        unexpected = [
            violation
            for violation in violations
            if (violation["directive"], violation["blocked"]) not in EXPECTED_BLOCKS
        ]
        expected = len(violations) - len(unexpected)
        print(
            f"{path}: {'drawn' if drew else 'NOT DRAWN'}, "
            f"{len(unexpected)} violation(s)"
            + (f" (+{expected} expected: external image)" if expected else "")
        )
        for violation in unexpected:
            print(f"    {violation}")
        if not drew:
            failures.append(f"{path} never drew ({drawn})")
        if unexpected:
            failures.append(f"{path}: {unexpected}")
    return failures


def main() -> int:
    with running_service(PORT, superuser=(EMAIL, PASSWORD)), chromium() as browser:
        failures = drill(browser.new_page())
    if failures:
        print("FAIL: " + "; ".join(failures))
        return 1
    print("PASS: every page works under the Content-Security-Policy")
    return 0


if __name__ == "__main__":
    sys.exit(main())
