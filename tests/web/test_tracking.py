"""Issue 13's additions in the browser: tags (on the timer's session, in history),
importing a Toggl Track CSV, and reports over any range grouped by project or tag."""

import datetime

from playwright.sync_api import expect

from tests.web.helpers import Api, assert_accessible, show_history, signed_up

TOGGL = (
    "User,Email,Client,Project,Task,Description,Billable,Start date,Start time,"
    "End date,End time,Duration,Tags\n"
    "Ada,ada@example.com,,Thesis,Chapter 2,Drafting,No,{day},09:00:00,{day},09:45:00,"
    '00:45:00,"deep, writing"\n'
    "Ada,ada@example.com,,Thesis,,Reading,No,{day},10:00:00,{day},10:30:00,00:30:00,deep\n"
    "Ada,ada@example.com,,,,Broken,No,{day},12:00:00,{day},11:00:00,00:00:00,\n"
)


def test_tags_a_toggl_import_and_reports_over_a_range(web):
    axe: dict = {}
    page = signed_up(web.context(viewport={"width": 1100, "height": 900}), "tags@example.com")
    api = Api(web.base, "tags@example.com")

    # tags: made on the tasks screen, picked on the timer, carried by the session
    page.get_by_role("link", name="Tasks").click()
    page.get_by_label("Tag name").fill("calls")
    page.get_by_role("button", name="Add tag").click()
    expect(page.locator("#tag-list")).to_contain_text("calls")
    page.get_by_role("link", name="Timer").click()
    page.get_by_role("checkbox", name="calls").check()
    page.get_by_role("button", name="Start").click()
    expect(page.get_by_role("button", name="Pause")).to_be_visible()
    [tag] = api.get("tags/").json()["results"]
    assert api.get("sessions/active/").json()["tags"] == [tag["id"]]
    page.get_by_role("button", name="Stop").click()
    expect(page.get_by_role("button", name="Start")).to_be_visible()

    # history shows the tag; an edit takes it off
    page.get_by_role("link", name="History").click()
    expect(page.locator("#history-rows")).to_contain_text("calls")
    page.get_by_role("button", name="Edit").first.click()
    page.get_by_role("checkbox", name="calls").uncheck()
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#history-rows")).not_to_contain_text("calls")

    # a Toggl Track CSV: checked first (nothing written), then brought in
    day = (datetime.date.today() - datetime.timedelta(days=2)).isoformat()
    csv = {"name": "toggl.csv", "mimeType": "text/csv", "buffer": TOGGL.format(day=day).encode()}
    form = page.get_by_role("form", name="Bring in sessions from a CSV file")
    form.get_by_label("CSV file").set_input_files(csv)
    form.get_by_label("Check only, change nothing").check()
    form.get_by_role("button", name="Upload").click()
    expect(page.locator("#import-result")).to_contain_text("Would add 2 sessions; skipped 1.")
    expect(page.locator("#import-result")).to_contain_text("Row 3")
    assert api.get("sessions/?period=month").json()["results"].__len__() == 1
    form.get_by_label("Check only, change nothing").uncheck()
    form.get_by_label("CSV file").set_input_files(csv)
    form.get_by_role("button", name="Upload").click()
    expect(page.locator("#import-result")).to_contain_text("Added 2 sessions; skipped 1.")
    assert_accessible(page, "history with tags and the upload", axe)

    # reports over any range, by project, then by tag
    page.get_by_role("link", name="Reports").click()
    report = page.get_by_role("form", name="Report")
    report.get_by_label("Group by").select_option("project")
    report.get_by_role("button", name="Make the report").click()
    expect(page.get_by_role("table", name="Report")).to_contain_text("Thesis")
    expect(page.get_by_role("table", name="Report")).to_contain_text("1 h 15 min")
    report.get_by_label("Group by").select_option("tag")
    report.get_by_role("button", name="Make the report").click()
    expect(page.get_by_role("table", name="Report")).to_contain_text("writing")
    expect(
        page.get_by_role("img", name="Time per group (the table below has the numbers)")
    ).to_be_visible()
    assert_accessible(page, "reports over a range", axe)

    # search and filters, over the range that holds the upload
    show_history(page, datetime.date.fromisoformat(day), datetime.date.today())
    filters = page.get_by_role("form", name="Which sessions")
    expect(page.locator("#history-total")).to_contain_text("3 sessions")
    filters.get_by_label("Search").fill("draft")
    filters.get_by_role("button", name="Show").click()
    expect(page.locator("#history-total")).to_contain_text("1 session,")
    expect(page.locator("#history-rows")).to_contain_text("Drafting")
    filters.get_by_label("Search").fill("")
    filters.get_by_label("Tag").select_option(label="deep")
    filters.get_by_role("button", name="Show").click()
    expect(page.locator("#history-total")).to_contain_text("2 sessions")

    # several at once: select both, set their task, then delete them
    page.get_by_role("checkbox", name="Select Drafting").check()
    page.get_by_role("checkbox", name="Select Reading").check()
    expect(page.locator("#selected-count")).to_have_text("2 selected")
    page.get_by_label("Task for the selected").select_option(label="Chapter 2")
    page.get_by_role("button", name="Set the task").click()
    expect(page.get_by_role("alert")).to_have_text("1 session changed.")
    chapter = next(t for t in api.get("tasks/").json()["results"] if t["title"] == "Chapter 2")
    page.get_by_role("checkbox", name="Select Drafting").check()
    page.get_by_role("checkbox", name="Select Reading").check()
    expect(page.locator("#selected-count")).to_have_text("2 selected")
    page.get_by_label("Tag to add to the selected").select_option(label="calls")
    page.get_by_role("button", name="Add the tag").click()
    expect(page.get_by_role("alert")).to_have_text("2 sessions changed.")
    expect(page.locator("#history-rows")).to_contain_text("Drafting · calls, deep, writing")
    expect(page.locator("#history-rows")).to_contain_text("Reading · calls, deep")
    page.get_by_role("checkbox", name="Select Drafting").check()
    page.get_by_role("checkbox", name="Select Reading").check()
    expect(page.locator("#selected-count")).to_have_text("2 selected")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Delete selected").click()
    expect(page.get_by_role("alert")).to_contain_text("changed.")
    expect(page.locator("#history-total")).to_contain_text("0 sessions")
    assert chapter["today_focus_seconds"] == 0
    filters.get_by_label("Tag").select_option(label="Any tag")
    filters.get_by_role("button", name="Show").click()

    expect(page.locator("#history-total")).to_contain_text("1 session,")

    print(f"\naxe-core results (tracking screens): {axe}")
