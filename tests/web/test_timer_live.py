"""Flows 2 and 3: the timer and live sync across devices; refusals shown and recovered
from; reconnecting after a network loss; a step ending with the tab in the background."""

import re

from playwright.sync_api import expect

from tests.web.helpers import Api, signed_in, signed_up

# Records the notifications the page shows (the browser's own are not observable).
RECORD_NOTIFICATIONS = """
window.shownNotifications = [];
window.Notification = class extends EventTarget {
  static permission = "granted";
  static requestPermission() { return Promise.resolve("granted"); }
  constructor(title, options) { super(); window.shownNotifications.push(title); }
};
"""


def clock_seconds(page) -> int:
    minutes, seconds = page.get_by_role("timer").inner_text().split(":")[-2:]
    return int(minutes) * 60 + int(seconds)


def test_two_devices_stay_in_sync_and_refusals_are_shown_and_recovered(web):
    laptop = signed_up(web.context(), "sync@example.com")
    phone = signed_in(web.context(), "sync@example.com")
    api = Api(web.base, "sync@example.com")

    # when the laptop starts a focus session, the phone shows it running within a second
    laptop.get_by_role("button", name="Start").click()
    expect(phone.get_by_role("button", name="Pause")).to_be_visible(timeout=1000)
    expect(phone.locator("#timer-state")).to_have_text("Running")
    # both show the same second, and the clock is in the tab's title
    assert abs(clock_seconds(laptop) - clock_seconds(phone)) <= 1
    expect(laptop).to_have_title(re.compile(r"^(24:5\d|25:00) Focus"))

    # when the phone pauses, the laptop shows it paused, and both clocks stand still
    phone.get_by_role("button", name="Pause").click()
    expect(laptop.get_by_role("button", name="Resume")).to_be_visible(timeout=1000)
    expect(laptop.locator("#timer-state")).to_have_text("Paused")
    frozen = laptop.get_by_role("timer").inner_text()
    laptop.wait_for_timeout(1100)
    expect(laptop.get_by_role("timer")).to_have_text(frozen)
    expect(phone.get_by_role("timer")).to_have_text(frozen)

    # when another client of the same user resumes it over REST, both pages show it
    session = api.get("sessions/active/").json()
    assert api.post(f"sessions/{session['id']}/start/").status_code == 200
    expect(laptop.get_by_role("button", name="Pause")).to_be_visible(timeout=1000)
    expect(phone.get_by_role("button", name="Pause")).to_be_visible(timeout=1000)

    # given the phone loses the network: it says so, and a change elsewhere waits
    phone.context.set_offline(True)
    expect(phone.locator("#connection")).to_contain_text("Offline", timeout=5000)
    laptop.get_by_role("button", name="Stop").click()
    expect(laptop.get_by_role("button", name="Start")).to_be_visible()
    # an action while offline is refused and said, and nothing is queued
    phone.get_by_role("button", name="Pause").click()
    expect(phone.get_by_role("alert")).to_contain_text("offline")
    # when the network is back, it catches up from its last seq
    phone.context.set_offline(False)
    expect(phone.locator("#connection")).to_have_text("Live", timeout=10000)
    expect(phone.get_by_role("button", name="Start")).to_be_visible(timeout=2000)
    assert api.get("sessions/active/").status_code == 204

    # given the laptop stops hearing the socket, another client starts a session
    laptop.route_web_socket(re.compile(r"/ws/v1/events/"), lambda socket: None)
    laptop.reload()
    expect(laptop.get_by_role("button", name="Start")).to_be_visible()
    started = api.post("sessions/", {"kind": "focus"}).json()
    # when the stale laptop presses Start, the 409 is shown and the truth re-read
    laptop.get_by_role("button", name="Start").click()
    expect(laptop.get_by_role("alert")).to_contain_text("Refused")
    expect(laptop.get_by_role("button", name="Pause")).to_be_visible()
    # and the refused action changed nothing: the same session is the active one
    assert api.get("sessions/active/").json()["id"] == started["id"]
    assert api.get("sessions/active/").json()["version"] == started["version"]
    expect(phone.get_by_role("button", name="Pause")).to_be_visible(timeout=1000)


def test_skip_reset_task_and_a_step_ending_in_the_background(web):
    context = web.context()
    context.add_init_script(RECORD_NOTIFICATIONS)
    page = signed_up(context, "cycle@example.com")
    api = Api(web.base, "cycle@example.com")
    assert api.post("tasks/", {"title": "Write the report"}).status_code == 201
    page.reload()
    page.get_by_label("Task").select_option(label="Write the report")
    page.get_by_role("button", name="Start").click()
    expect(page.get_by_role("button", name="Pause")).to_be_visible()
    assert api.get("sessions/active/").json()["task"] is not None

    # Skip ends the focus and starts the break the cycle gives
    page.get_by_role("button", name="Skip").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Short break")
    expect(page.get_by_role("timer")).to_have_text(re.compile(r"0[45]:\d\d"))
    # Reset puts the step back to its start, paused
    page.get_by_role("button", name="Reset").click()
    expect(page.get_by_role("button", name="Resume")).to_be_visible()
    expect(page.get_by_role("timer")).to_have_text("05:00")
    page.get_by_role("button", name="Stop").click()
    expect(page.get_by_role("button", name="Start")).to_be_visible()

    # the stopwatch counts up
    page.get_by_role("radio", name="Stopwatch").check()
    page.get_by_role("button", name="Start").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Stopwatch")
    expect(page.get_by_role("timer")).to_have_text("00:01", timeout=3000)
    page.get_by_role("button", name="Stop").click()
    expect(page.get_by_role("button", name="Start")).to_be_visible()
    page.get_by_role("radio", name="Pomodoro cycle").check()

    # given a short step started elsewhere, and this tab in the background
    started = api.post("sessions/", {"kind": "focus", "planned_seconds": 3}).json()
    expect(page.get_by_role("button", name="Pause")).to_be_visible(timeout=1000)
    other = context.new_page()
    other.goto("/#/reports")
    other.bring_to_front()
    # when its end comes, the page notifies (with a sound) and shows what the server made of it
    expect(page.locator(f"body[data-last-announced='{started['id']}']")).to_have_count(
        1, timeout=6000
    )
    assert page.evaluate("window.shownNotifications") == ["Focus finished"]
    expect(page.get_by_role("button", name="Start")).to_be_visible(timeout=5000)
    expect(page.locator("#today-count")).to_contain_text("1 focus session completed")
    page.bring_to_front()

    # keyboard: space starts and pauses, "?" shows the shortcuts
    page.locator("main h1").click()
    page.keyboard.press("Space")
    expect(page.get_by_role("button", name="Pause")).to_be_visible()
    page.locator("main h1").click()
    page.keyboard.press("Space")
    expect(page.get_by_role("button", name="Resume")).to_be_visible()
    page.keyboard.press("?")
    expect(page.get_by_role("dialog", name="Keyboard shortcuts")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog")).to_be_hidden()


def test_a_press_while_the_last_action_awaits_its_answer_runs_after_it(web):
    """The socket can draw Pause before the answer to Start arrives: a press of it then
    waits for that answer and runs, rather than being dropped; a double press of Start
    starts one session."""
    page = signed_up(web.context(), "queued@example.com")
    api = Api(web.base, "queued@example.com")
    held = []

    def hold_the_answer(route):
        if route.request.method != "POST":
            return route.continue_()
        # sent to the server now (its event reaches the socket), answered later
        held.append((route, route.fetch()))

    page.route("**/api/v1/sessions/", hold_the_answer)
    page.get_by_role("button", name="Start").dblclick()
    expect(page.get_by_role("button", name="Pause")).to_be_visible()
    page.get_by_role("button", name="Pause").click()
    page.wait_for_timeout(300)
    assert api.get("sessions/active/").json()["state"] == "running"  # waiting its turn

    route, response = held[0]
    route.fulfill(response=response)

    expect(page.get_by_role("button", name="Resume")).to_be_visible()
    assert api.get("sessions/active/").json()["state"] == "paused"
    assert len(held) == 1
    assert len(api.get("sessions/").json()["results"]) == 1


def test_keys_pressed_while_an_answer_is_awaited_act_on_the_state_at_their_turn(web):
    """Stop (s) then Space before Stop's answer: Space starts the next session, as it
    would pressed a moment later, instead of pausing the stopped one and drawing a
    refusal. A held key acts once."""
    page = signed_up(web.context(), "keys@example.com")
    api = Api(web.base, "keys@example.com")
    page.get_by_role("button", name="Start").click()
    expect(page.get_by_role("button", name="Pause")).to_be_visible()
    first = api.get("sessions/active/").json()
    held = []
    # held before it reaches the server: no event tells the page of the stop meanwhile
    page.route("**/api/v1/sessions/*/stop/", lambda route: held.append(route))

    page.evaluate("document.activeElement.blur()")  # keys on a button are the button's
    page.keyboard.press("s")
    page.wait_for_timeout(300)
    page.keyboard.press(" ")
    page.wait_for_timeout(300)
    held[0].continue_()

    # within a few seconds: the stop's answer, then Space's start of the next session
    for _ in range(50):
        active = api.get("sessions/active/")
        if active.status_code == 200 and active.json()["id"] != first["id"]:
            break
        page.wait_for_timeout(100)
    assert active.status_code == 200 and active.json()["id"] != first["id"]
    expect(page.locator("#timer-state")).to_have_text("Running")
    assert api.get(f"sessions/{first['id']}/").json()["state"] == "interrupted"
    expect(page.locator("#notice")).to_be_hidden()

    # Space held down (the second keydown a repeat): paused once, not paused and resumed
    page.keyboard.down(" ")
    page.keyboard.down(" ")
    page.keyboard.up(" ")
    expect(page.get_by_role("button", name="Resume")).to_be_visible()
    page.wait_for_timeout(500)
    assert api.get("sessions/active/").json()["state"] == "paused"
