"""What the browser tests share: signing a context in through the app's session
endpoints, the public API with a token, the history's range, datetime-local values,
and the axe check."""

import datetime
from zoneinfo import ZoneInfo

import httpx
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import BrowserContext, Page, expect

PASSWORD = "a sturdy passphrase 42"
_axe = Axe()


def signed_up(context: BrowserContext, email: str, name: str = "") -> Page:
    """A page of the app, signed up as `email` through the app's own form."""
    page = context.new_page()
    page.goto("/")
    page.get_by_role("form", name="Sign up").get_by_label("Name").fill(name or email.split("@")[0])
    page.get_by_role("form", name="Sign up").get_by_label("Email").fill(email)
    page.get_by_role("form", name="Sign up").get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign up").click()
    expect(page.get_by_role("timer")).to_be_visible()
    expect(page.locator("#connection")).to_have_text("Live")
    return page


def signed_in(context: BrowserContext, email: str) -> Page:
    page = context.new_page()
    page.goto("/")
    form = page.get_by_role("form", name="Sign in")
    form.get_by_label("Email").fill(email)
    form.get_by_label("Password").fill(PASSWORD)
    form.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("timer")).to_be_visible()
    expect(page.locator("#connection")).to_have_text("Live")
    return page


def local_minute(moment: datetime.datetime, zone: str) -> str:
    """`moment` as a datetime-local field holds it in `zone` (to the minute)."""
    return moment.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%dT%H:%M")


def show_history(page: Page, first: datetime.date, last: datetime.date) -> None:
    """The history screen over the days `first` to `last` (inclusive)."""
    page.get_by_role("link", name="History").click()
    filters = page.get_by_role("form", name="Which sessions")
    filters.get_by_label("Period").select_option("range")
    filters.get_by_label("From").fill(first.isoformat())
    filters.get_by_label("To").fill(last.isoformat())
    filters.get_by_role("button", name="Show").click()


class Api:
    """The public API as another client of the same user (a JWT, as the mobile app)."""

    def __init__(self, base: str, email: str):
        self.client = httpx.Client(base_url=f"{base}/api/v1/", timeout=10)
        tokens = self.client.post("auth/login/", json={"email": email, "password": PASSWORD})
        tokens.raise_for_status()
        self.client.headers["Authorization"] = f"Bearer {tokens.json()['access']}"

    def get(self, path: str):
        return self.client.get(path)

    def post(self, path: str, body: dict | None = None):
        return self.client.post(path, json=body)

    def patch(self, path: str, body: dict):
        return self.client.patch(path, json=body)


def assert_accessible(page: Page, screen: str, results: dict) -> None:
    """No serious or critical axe-core violation on what the page shows now."""
    report = _axe.run(page)
    bad = [
        f"{violation['id']} ({violation['impact']}): {violation['help']}"
        for violation in report.response["violations"]
        if violation["impact"] in ("serious", "critical")
    ]
    results[screen] = {
        "violations": [
            f"{violation['id']} ({violation['impact']})"
            for violation in report.response["violations"]
        ],
        "serious_or_critical": len(bad),
        "passes": len(report.response["passes"]),
    }
    assert not bad, f"{screen}: {bad}"
