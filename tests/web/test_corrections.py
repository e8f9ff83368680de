"""Correcting tracked time in the browser: a session's start and end fixed in history
(refusals shown, nothing changed), a running session's start moved earlier, a forgotten
stopwatch stopped at a past moment, and the stopwatch limit in settings. The browser
runs in Europe/Paris, so a value read as UTC instead of local time would show."""

import datetime
import re
from zoneinfo import ZoneInfo

from playwright.sync_api import expect

from tests.web.helpers import Api, assert_accessible, local_minute, show_history, signed_up

ZONE = "Europe/Paris"
MINUTE = datetime.timedelta(minutes=1)


def this_minute() -> datetime.datetime:
    """Now to the minute, datetime-local's precision."""
    return datetime.datetime.now(datetime.UTC).replace(second=0, microsecond=0)


def moment(text: str | None) -> datetime.datetime | None:
    return None if text is None else datetime.datetime.fromisoformat(text)


def times_of(api: Api, session_id: int) -> dict:
    """What a correction changes, and the version that any change moves."""
    session = api.get(f"sessions/{session_id}/").json()
    return {
        "started_at": moment(session["started_at"]),
        "ended_at": moment(session["ended_at"]),
        "elapsed_seconds": session["elapsed_seconds"],
        "state": session["state"],
        "version": session["version"],
    }


def show_recent_history(page) -> None:
    today = datetime.datetime.now(ZoneInfo(ZONE)).date()
    show_history(page, today - datetime.timedelta(days=1), today)


def test_an_ended_session_s_times_corrected_in_history_refusals_change_nothing(web):
    axe: dict = {}
    page = signed_up(
        web.context(viewport={"width": 1100, "height": 900}, timezone_id=ZONE), "fix@example.com"
    )
    api = Api(web.base, "fix@example.com")
    now = this_minute()
    second = datetime.timedelta(seconds=30)
    logged = api.post(
        "sessions/log/",
        {
            "name": "Early",
            "started_at": (now - 180 * MINUTE + second).isoformat(),
            "ended_at": (now - 155 * MINUTE + second).isoformat(),
        },
    ).json()
    api.post(
        "sessions/log/",
        {
            "name": "Late",
            "started_at": (now - 120 * MINUTE).isoformat(),
            "ended_at": (now - 100 * MINUTE).isoformat(),
        },
    )
    show_recent_history(page)
    expect(page.locator("#history-total")).to_contain_text("2 sessions")
    rows = page.locator("#history-rows")

    # a rename alone keeps the times to the second: they are not sent
    page.get_by_role("button", name=re.compile("^Edit Early")).click()
    form = page.get_by_role("form", name="Edit session Early")
    expect(form.get_by_label("Started")).to_have_value(
        local_minute(now - 180 * MINUTE + second, ZONE)
    )
    expect(form.get_by_label("Ended")).to_have_value(
        local_minute(now - 155 * MINUTE + second, ZONE)
    )
    form.get_by_label("Name").fill("Drafting")
    form.get_by_role("button", name="Save").click()
    expect(rows).to_contain_text("Drafting")
    before = times_of(api, logged["id"])
    assert (before["started_at"], before["ended_at"]) == (
        now - 180 * MINUTE + second,
        now - 155 * MINUTE + second,
    )

    # start and end corrected: the new duration shown, the API agrees
    page.get_by_role("button", name=re.compile("^Edit Drafting")).click()
    form = page.get_by_role("form", name="Edit session Drafting")
    form.get_by_label("Started").fill(local_minute(now - 190 * MINUTE, ZONE))
    form.get_by_label("Ended").fill(local_minute(now - 150 * MINUTE, ZONE))
    assert_accessible(page, "history, editing a session's times", axe)
    form.get_by_role("button", name="Save").click()
    expect(form).to_be_hidden()
    expect(rows.locator("tr", has_text="Drafting")).to_contain_text("40 min")
    corrected = times_of(api, logged["id"])
    assert (corrected["started_at"], corrected["ended_at"], corrected["elapsed_seconds"]) == (
        now - 190 * MINUTE,
        now - 150 * MINUTE,
        2400,
    )

    # an end before the start: refused (400), said, the form keeps what was typed
    page.get_by_role("button", name=re.compile("^Edit Drafting")).click()
    form = page.get_by_role("form", name="Edit session Drafting")
    form.get_by_label("Ended").fill(local_minute(now - 200 * MINUTE, ZONE))
    form.get_by_role("button", name="Save").click()
    expect(page.get_by_role("alert")).to_contain_text("Refused")
    expect(page.get_by_role("alert")).to_contain_text("ended_at")
    expect(form.get_by_label("Ended")).to_have_value(local_minute(now - 200 * MINUTE, ZONE))
    assert times_of(api, logged["id"]) == corrected

    # ending inside the next session: refused (409 overlap), said, nothing changed
    form.get_by_label("Ended").fill(local_minute(now - 110 * MINUTE, ZONE))
    form.get_by_role("button", name="Save").click()
    expect(page.get_by_role("alert")).to_contain_text("overlaps another session")
    assert times_of(api, logged["id"]) == corrected
    form.get_by_role("button", name="Cancel").click()
    expect(rows.locator("tr", has_text="Drafting")).to_contain_text("40 min")
    print(f"\naxe-core results (corrections): {axe}")


def test_a_running_session_s_start_moved_earlier_in_history(web):
    page = signed_up(web.context(timezone_id=ZONE), "earlier@example.com")
    api = Api(web.base, "earlier@example.com")
    page.get_by_role("button", name="Start").click()
    expect(page.get_by_role("button", name="Pause")).to_be_visible()

    show_recent_history(page)
    page.get_by_role("button", name=re.compile("^Edit Focus")).click()
    form = page.get_by_role("form", name="Edit session Focus")
    # an active session has no end to correct: only its start can move
    expect(form.get_by_label("Ended")).to_have_count(0)
    expect(form).to_contain_text("only its start can move, to an earlier time")
    now = this_minute()
    form.get_by_label("Started").fill(local_minute(now - 10 * MINUTE, ZONE))
    form.get_by_role("button", name="Save").click()
    expect(form).to_be_hidden()

    session = api.get("sessions/active/").json()
    assert (session["state"], moment(session["started_at"]), moment(session["target_end_at"])) == (
        "running",
        now - 10 * MINUTE,
        now + 15 * MINUTE,
    )
    assert 600 <= session["elapsed_seconds"] < 720
    page.get_by_role("link", name="Timer").click()
    expect(page.get_by_role("timer")).to_have_text(re.compile(r"^1[345]:\d\d$"))


def test_a_forgotten_stopwatch_stopped_at_a_past_moment_at_375_px(web):
    axe: dict = {}
    context = web.context(viewport={"width": 375, "height": 740}, timezone_id=ZONE)
    page = signed_up(context, "forgot@example.com")
    api = Api(web.base, "forgot@example.com")
    page.get_by_role("radio", name="Stopwatch").check()
    page.get_by_role("button", name="Start").click()
    expect(page.get_by_role("button", name="Pause")).to_be_visible()
    # it has run two hours (moved by another client; shown here live)
    session = api.get("sessions/active/").json()
    started = this_minute() - 120 * MINUTE
    api.patch(f"sessions/{session['id']}/", {"started_at": started.isoformat()}).raise_for_status()
    expect(page.get_by_role("timer")).to_have_text(re.compile(r"^2:0\d:\d\d$"))

    # by keyboard: the control opens the form, its field has the focus and says now
    opens = page.get_by_role("button", name="End earlier…")
    opens.focus()
    page.keyboard.press("Enter")
    stopped_at = page.get_by_label("Ended at")
    expect(stopped_at).to_be_focused()
    expect(opens).to_have_attribute("aria-expanded", "true")
    now = this_minute()
    assert stopped_at.input_value() in {local_minute(now - n * MINUTE, ZONE) for n in (0, 1)}
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    assert_accessible(page, "timer, end at a past time (375 px)", axe)

    # in the future: refused, said, still running, the form still open
    stopped_at.fill(local_minute(now + 60 * MINUTE, ZONE))
    page.get_by_role("button", name="End at this time").click()
    expect(page.get_by_role("alert")).to_contain_text("Refused")
    expect(page.get_by_role("alert")).to_contain_text("future")
    expect(page.locator("#timer-state")).to_have_text("Running")
    expect(stopped_at).to_be_visible()
    still = api.get(f"sessions/{session['id']}/").json()
    assert (still["state"], still["ended_at"]) == ("running", None)

    # an hour after its start: stopped there, an hour of time
    stopped_at.fill(local_minute(started + 60 * MINUTE, ZONE))
    stopped_at.press("Enter")
    expect(page.get_by_role("button", name="Start")).to_be_visible()
    expect(page.get_by_label("Ended at")).to_have_count(0)
    stopped = api.get(f"sessions/{session['id']}/").json()
    assert (stopped["state"], moment(stopped["ended_at"]), stopped["elapsed_seconds"]) == (
        "completed",
        started + 60 * MINUTE,
        3600,
    )
    print(f"\naxe-core results (stop at): {axe}")


def test_the_stopwatch_limit_set_and_cleared_in_settings(web):
    axe: dict = {}
    page = signed_up(web.context(viewport={"width": 1100, "height": 900}), "limit@example.com")
    api = Api(web.base, "limit@example.com")
    page.get_by_role("link", name="Settings").click()
    limit = page.get_by_label("Stopwatch limit (minutes)")
    expect(limit).to_have_value("600")
    expect(limit).to_have_accessible_description(re.compile("Leave it empty for no limit"))

    limit.fill("45")
    page.get_by_role("button", name="Save timer settings").click()
    expect(page.get_by_role("alert")).to_have_text("Timer settings saved.")
    assert api.get("me/settings/").json()["stopwatch_max_minutes"] == 45
    page.reload()
    expect(limit).to_have_value("45")

    # over a day (the API's bound too): the field refuses it with the browser's message,
    # the limit stays
    limit.fill("2000")
    page.get_by_role("button", name="Save timer settings").click()
    assert limit.evaluate("field => field.validity.rangeOverflow && field.validationMessage !== ''")
    assert api.get("me/settings/").json()["stopwatch_max_minutes"] == 45

    # empty: no limit at all
    limit.fill("")
    page.get_by_role("button", name="Save timer settings").click()
    expect(page.get_by_role("alert")).to_have_text("Timer settings saved.")
    assert api.get("me/settings/").json()["stopwatch_max_minutes"] is None
    page.reload()
    expect(limit).to_have_value("")
    assert_accessible(page, "settings, no stopwatch limit", axe)
    print(f"\naxe-core results (stopwatch limit): {axe}")
