"""Flow 1: start as a guest, claim the account, sign out, sign in, reset a forgotten
password from the emailed link; and the page's weight and time to usable."""

import re

from playwright.sync_api import expect

from tests.web.helpers import PASSWORD


def first_screen_figures(page) -> dict:
    return page.evaluate(
        """() => {
        const assets = performance.getEntriesByType("resource")
          .filter((entry) => /\\.(js|css)$/.test(new URL(entry.name).pathname));
        return {
          usable_ms: Number(document.body.dataset.usableMs),
          compressed_bytes: assets.reduce((sum, entry) => sum + entry.encodedBodySize, 0),
          decoded_bytes: assets.reduce((sum, entry) => sum + entry.decodedBodySize, 0),
          files: assets.length,
        };
      }"""
    )


def test_a_guest_claims_the_account_signs_out_signs_in_and_resets_the_password(web):
    context = web.context()
    page = context.new_page()
    # given the app's first page
    page.goto("/")
    # when a person starts as a guest
    page.get_by_role("button", name="Start as a guest").click()
    # then the timer is there, ready, and live
    expect(page.get_by_role("timer")).to_have_text("25:00")
    expect(page.get_by_role("button", name="Start")).to_be_enabled()
    expect(page.locator("#connection")).to_have_text("Live")
    # the signed-in first screen, from an empty cache (cold), then reloaded (warm): its
    # weight and the time from navigation to a timer drawn from the server's truth
    fresh = web.context()
    fresh.add_cookies(context.cookies())
    measured = fresh.new_page()
    measured.goto("/")
    expect(measured.locator("body[data-usable-ms]")).to_have_count(1)
    cold = first_screen_figures(measured)
    measured.reload()
    expect(measured.locator("body[data-usable-ms]")).to_have_count(1)
    warm = first_screen_figures(measured)
    print(f"\nweb app first screen, cold: {cold}\nweb app first screen, warm: {warm}")
    assert cold["compressed_bytes"] < 100 * 1024
    # Time is a figure printed above, not a pass mark: under a loaded CI it says little.
    assert cold["usable_ms"] > 0 and warm["usable_ms"] > 0
    # the modules are served under hashed names, cached for good, compressed
    module = measured.locator("script[type=module]").get_attribute("src")
    assert re.fullmatch(r"/static/web/app\.[0-9a-f]{12}\.js", module)
    asset = fresh.request.get(module, headers={"Accept-Encoding": "gzip"})
    assert "immutable" in asset.headers["cache-control"]
    assert asset.headers.get("content-encoding") == "gzip"
    # a reload kept the session (the cookie), and no token is anywhere a script can read
    cookies = {cookie["name"]: cookie for cookie in context.cookies()}
    assert cookies["sessionid"]["httpOnly"] and cookies["sessionid"]["sameSite"] == "Lax"
    readable = page.evaluate(
        "() => [document.cookie, JSON.stringify(localStorage), JSON.stringify(sessionStorage)]"
    )
    assert "sessionid" not in readable[0] and readable[1:] == ["{}", "{}"]

    # when the guest keeps the data by signing up from the settings
    page.get_by_role("link", name="Settings").click()
    claim = page.get_by_role("form", name="Claim the account")
    claim.get_by_label("Email").fill("kept@example.com")
    claim.get_by_label("Password").fill(PASSWORD)
    claim.get_by_role("button", name="Sign up").click()
    expect(page.get_by_role("alert")).to_have_text("Account saved.")
    expect(page.get_by_role("form", name="Claim the account")).to_have_count(0)

    # and signs out, then in again
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("button", name="Start as a guest")).to_be_visible()
    page.reload()
    expect(page.get_by_role("button", name="Start as a guest")).to_be_visible()
    form = page.get_by_role("form", name="Sign in")
    form.get_by_label("Email").fill("kept@example.com")
    form.get_by_label("Password").fill("not the password")
    form.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("Refused")
    form.get_by_label("Password").fill(PASSWORD)
    form.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("timer")).to_be_visible()
    page.get_by_role("link", name="Settings").click()
    page.get_by_role("button", name="Sign out").click()

    # when the password is forgotten: the emailed link opens the app's reset page
    page.get_by_role("link", name="Forgot your password?").click()
    expect(page.get_by_role("heading", name="Reset your password")).to_be_visible()
    page.get_by_label("Email").fill("kept@example.com")
    page.get_by_role("button", name="Send the reset link").click()
    expect(page.get_by_role("alert")).to_contain_text("on its way")
    link = None
    for _ in range(50):
        found = [re.search(r"http\S+token=\S+", mail) for mail in web.server.emails()]
        link = next((match.group(0) for match in found if match), None)
        if link:
            break
        page.wait_for_timeout(100)
    assert link and link.startswith(f"{web.base}/reset-password/?token=")
    page.goto(link)
    page.get_by_role("textbox", name="New password").fill("a brand new passphrase 7")
    page.get_by_role("button", name="Set the new password").click()
    expect(page.get_by_role("alert")).to_contain_text("sign in with it")
    form = page.get_by_role("form", name="Sign in")
    form.get_by_label("Email").fill("kept@example.com")
    form.get_by_label("Password").fill("a brand new passphrase 7")
    form.get_by_role("button", name="Sign in").click()
    # then the account signs in with the new password
    expect(page.get_by_role("timer")).to_be_visible()
