"""Flows 4 to 8 in the browser: tasks and projects, history, reports, teams and
settings; every screen checked with axe-core, at 375 px and by keyboard alone. With
SCREENSHOTS=1 it also writes the README's screenshots (scripts/screenshots)."""

import datetime
import os
import re

from playwright.sync_api import expect

from tests.web.conftest import SCREENSHOTS_DIR
from tests.web.helpers import PASSWORD, Api, assert_accessible, signed_up

SCREENSHOTS = os.environ.get("SCREENSHOTS") == "1"


def screenshot(page, name: str) -> None:
    if SCREENSHOTS:
        SCREENSHOTS_DIR.mkdir(parents=True, exist_ok=True)
        page.locator("#notice").evaluate("notice => { notice.hidden = true; }")
        page.screenshot(path=str(SCREENSHOTS_DIR / f"{name}.png"), full_page=False)


def test_tasks_history_reports_teams_and_settings(web):
    axe: dict = {}
    context = web.context(viewport={"width": 1100, "height": 800})
    page = signed_up(context, "all@example.com", "Ada")
    api = Api(web.base, "all@example.com")
    assert_accessible(page, "timer", axe)

    # tasks and projects: create, edit, archive, delete
    page.get_by_role("link", name="Tasks").click()
    page.get_by_label("Project name").fill("Thesis")
    page.get_by_role("button", name="Add project").click()
    expect(page.locator("#project-list")).to_contain_text("Thesis")
    form = page.get_by_role("form", name="New task")
    form.get_by_label("Task title").fill("Chapter one")
    form.get_by_label("Project").select_option(label="Thesis")
    form.get_by_label("Daily goal (minutes)").fill("50")
    form.get_by_role("button", name="Add task").click()
    expect(page.locator("#task-list")).to_contain_text("Chapter one")
    expect(page.locator("#task-list")).to_contain_text("of 50 min goal")
    page.get_by_role("button", name="Edit Chapter one").click()
    page.get_by_role("form", name="Edit Chapter one").get_by_label("Title").fill("Chapter 1")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#task-list")).to_contain_text("Chapter 1")
    form.get_by_label("Task title").fill("Old notes")
    form.get_by_role("button", name="Add task").click()
    page.get_by_role("button", name="Archive Old notes").click()
    expect(page.locator("#task-list")).to_contain_text("Old notes (archived)")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Delete Old notes").click()
    expect(page.locator("#task-list")).not_to_contain_text("Old notes")
    # a change made elsewhere shows here live
    api.post("tasks/", {"title": "From the phone"})
    expect(page.locator("#task-list")).to_contain_text("From the phone", timeout=1000)
    assert_accessible(page, "tasks", axe)

    # focus on the task today: a finished session added by hand, then the goal progress
    now = datetime.datetime.now(datetime.UTC)
    task = next(t for t in api.get("tasks/").json()["results"] if t["title"] == "Chapter 1")
    for hours_ago in (3, 2):
        started = now - datetime.timedelta(hours=hours_ago)
        api.post(
            "sessions/log/",
            {
                "task": task["id"],
                "started_at": started.isoformat(),
                "ended_at": (started + datetime.timedelta(minutes=25)).isoformat(),
            },
        )

    # history: the day's sessions, fix a name, add a past one, delete, CSV
    page.get_by_role("link", name="History").click()
    expect(page.locator("#history-total")).to_contain_text("2 sessions")
    page.get_by_role("button", name=re.compile("^Edit Chapter 1")).first.click()
    page.get_by_role("form", name=re.compile("^Edit session")).get_by_label("Name").fill("Intro")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#history-rows")).to_contain_text("Intro")
    log = page.get_by_role("form", name="Add a past session")
    log.get_by_label("Name").fill("Reading")
    started = (now - datetime.timedelta(hours=1)).astimezone()
    log.get_by_label("Started").fill(started.strftime("%Y-%m-%dT%H:%M"))
    log.get_by_label("Ended").fill(
        (started + datetime.timedelta(minutes=20)).strftime("%Y-%m-%dT%H:%M")
    )
    log.get_by_role("button", name="Add session").click()
    expect(page.locator("#history-total")).to_contain_text("3 sessions")
    # an overlapping one is refused, said, and changes nothing
    log.get_by_label("Name").fill("Twice")
    log.get_by_role("button", name="Add session").click()
    expect(page.get_by_role("alert")).to_contain_text("Refused")
    expect(page.locator("#history-total")).to_contain_text("3 sessions")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name=re.compile("^Delete Reading")).click()
    expect(page.locator("#history-total")).to_contain_text("2 sessions")
    csv = context.request.get(page.get_by_role("link", name="Export CSV").get_attribute("href"))
    assert csv.status == 200 and "Intro" in csv.text()
    for period in ("week", "month"):
        page.get_by_label("Period").select_option(period)
        page.get_by_role("button", name="Show").click()
        expect(page.locator("#history-total")).to_contain_text("2 sessions")
    assert_accessible(page, "history", axe)

    # reports: bars and their table, per task, the heatmap, streak, leaderboard
    page.get_by_role("link", name="Reports").click()
    expect(page.get_by_role("img", name=re.compile("Focus per day"))).to_be_visible()
    expect(page.get_by_role("table", name="Focus per task")).to_contain_text("Chapter 1")
    expect(page.get_by_role("table", name="Focus per day (minutes)")).to_contain_text("50")
    expect(page.locator("#streak")).to_contain_text("Current streak: 1 day")
    expect(page.get_by_role("table", name="Leaderboard")).to_contain_text("Ada")
    assert_accessible(page, "reports", axe)
    screenshot(page, "reports")

    # teams: create, invite by link, join from it in another browser, live board
    page.get_by_role("link", name="Teams").click()
    page.get_by_label("Team name").fill("Writers")
    page.get_by_role("button", name="Create team").click()
    expect(page.get_by_role("heading", name="Writers")).to_be_visible()
    page.get_by_role("button", name="Create an invite link").click()
    link = page.locator("#invite-link").get_attribute("href")
    assert re.fullmatch(rf"{web.base}/#/join/\S+", link)
    friend = signed_up(web.context(), "friend@example.com", "Grace")
    friend.goto(link)
    friend.get_by_role("button", name="Join the team").click()
    expect(friend.get_by_role("heading", name="Writers")).to_be_visible()
    page.reload()
    expect(page.locator("#board")).to_contain_text("Grace")
    friend.get_by_role("link", name="Timer").click()
    friend.get_by_role("button", name="Start").click()
    expect(page.locator("#board tr", has_text="Grace")).to_contain_text("In focus", timeout=2000)
    page.get_by_label("Role of Grace").select_option("admin")
    expect(page.get_by_role("alert")).to_be_hidden()
    assert_accessible(page, "team board", axe)

    # settings: profile, timer lengths, a refused value, tokens, calendar, password
    page.get_by_role("link", name="Settings").click()
    page.get_by_label("Timezone").select_option("Europe/Paris")
    page.get_by_label("Leave me off the leaderboard").check()
    page.get_by_role("button", name="Save profile").click()
    expect(page.get_by_role("alert")).to_have_text("Profile saved.")
    assert api.get("me/").json()["timezone"] == "Europe/Paris"
    page.get_by_label("Focus (minutes)").fill("30")
    page.get_by_label("Daily goal (minutes)").fill("120")
    page.get_by_role("button", name="Save timer settings").click()
    expect(page.get_by_role("alert")).to_have_text("Timer settings saved.")
    page.get_by_label("Short break (minutes)").fill("999")
    page.get_by_role("button", name="Save timer settings").click()
    expect(page.get_by_role("alert")).to_contain_text("Refused")
    # the form shows the truth again, read from the server
    expect(page.get_by_label("Short break (minutes)")).to_have_value("5")
    settings = api.get("me/settings/").json()
    assert (settings["focus_minutes"], settings["short_break_minutes"]) == (30, 5)
    page.get_by_label("Token name").fill("script")
    page.get_by_role("button", name="Create token").click()
    expect(page.locator("#secret")).to_contain_text("pat_")
    expect(page.locator("#tokens")).to_contain_text("script")
    page.get_by_role("button", name="Create a calendar link").click()
    expect(page.locator("#calendar-link")).to_contain_text(".ics")
    page.get_by_role("button", name="Revoke the calendar link").click()
    expect(page.locator("#calendar-link")).to_have_text("Revoked.")
    page.get_by_label("Webhook URL").fill("https://hooks.example.com/pomodoro")
    page.get_by_role("button", name="Add webhook").click()
    expect(page.locator("#secret")).to_contain_text("whsec_")
    expect(page.locator("#webhooks")).to_contain_text("hooks.example.com")
    page.get_by_role("button", name="Delete webhook https://hooks.example.com/pomodoro").click()
    expect(page.locator("#webhooks")).not_to_contain_text("hooks.example.com")
    page.get_by_role("button", name="Delete token script").click()
    expect(page.locator("#tokens")).not_to_contain_text("script")
    page.get_by_label("Current password").fill(PASSWORD)
    page.get_by_label("New password").fill("another sturdy passphrase 9")
    page.get_by_role("button", name="Change password").click()
    expect(page.get_by_role("alert")).to_have_text("Password saved.")
    page.reload()
    expect(page.get_by_role("heading", name="Settings")).to_be_visible()
    assert_accessible(page, "settings", axe)
    export = context.request.get("/api/v1/me/export/")
    assert export.status == 200 and export.json()["profile"]["display_name"] == "Ada"

    page.get_by_role("link", name="Timer").click()
    expect(page.locator("#today-count")).to_contain_text("2 focus sessions completed")
    expect(page.locator("#goal-progress")).to_have_attribute("max", "7200")
    screenshot(page, "timer")
    print(f"\naxe-core results (violations of any impact / serious or critical): {axe}")

    # deletion of the account
    page.get_by_role("link", name="Settings").click()
    page.get_by_label("Password to delete the account").fill("another sturdy passphrase 9")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Delete my account").click()
    expect(page.get_by_role("button", name="Start as a guest")).to_be_visible()


def test_keyboard_alone_at_375_px(web):
    axe: dict = {}
    context = web.context(viewport={"width": 375, "height": 740}, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.goto("/")
    assert_accessible(page, "welcome (375 px)", axe)
    # reach "Start as a guest" by Tab alone
    for _ in range(12):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent") == "Start as a guest":
            break
    page.keyboard.press("Enter")
    expect(page.get_by_role("timer")).to_be_visible()
    expect(page.locator("#connection")).to_have_text("Live")
    # the primary control has the focus, visibly
    expect(page.get_by_role("button", name="Start")).to_be_focused()
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"
    page.keyboard.press("Enter")
    expect(page.get_by_role("button", name="Pause")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_role("button", name="Resume")).to_be_focused()
    # nothing wider than the screen, on every screen
    screens = {
        "Tasks": "Tasks and projects",
        "History": "History",
        "Reports": "Reports",
        "Teams": "Teams",
        "Settings": "Settings",
        "Timer": re.compile("Focus|Short break"),
    }
    for name, heading in screens.items():
        page.get_by_role("link", name=name).focus()
        page.keyboard.press("Enter")
        expect(page.get_by_role("heading", level=1)).to_have_text(heading)
        page.wait_for_load_state("networkidle")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 375, f"{name} is {width} px wide"
        assert_accessible(page, f"{name.lower()} (375 px)", axe)
    page.get_by_role("link", name="Timer").focus()
    page.keyboard.press("Enter")
    page.keyboard.press("?")
    expect(page.get_by_role("dialog", name="Keyboard shortcuts")).to_be_visible()
    assert_accessible(page, "shortcuts dialog", axe)
    page.keyboard.press("Escape")
    print(f"\naxe-core results at 375 px: {axe}")
