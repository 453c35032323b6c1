"""The admin page's support hours in headless Chromium: the admin sees the sentence
customers are told, changes the days, and the sentence (the one the assistant asks the
web app for) follows; a bad day is refused with what the admin typed kept. Screenshots
go to reports/screenshots/."""

import aiohttp
import pytest
from test_desk_team_browser import SHOTS, sign_in
from test_handoff_browser import ARGS, STEP, chromium_path
from test_support_hours_told import FILE_SENTENCE

pytestmark = [pytest.mark.asyncio, pytest.mark.browser]
PASSWORD = "correct horse"
EDITED_SENTENCE = (
    "Monday to Thursday 9:00-18:00, Friday 9:00-17:00 and Sunday 10:00-16:00 (Europe/London time)"
)


async def told(url: str) -> str:
    """What the web app tells the assistant (and so the customer) about the hours."""
    async with aiohttp.ClientSession() as http:
        async with http.get(url + "/api/agent/support-hours") as response:
            return str((await response.json())["summary"])


async def test_admin_changes_the_days_and_the_sentence_customers_are_told_follows(
    app_factory, serve_desk
):
    from playwright.async_api import async_playwright, expect

    desk = await serve_desk(app_factory(hours=None))  # shop.yml's hours, editable
    await desk.service.create_agent("root", "Rita Admin", PASSWORD, role="admin")
    problems: list[str] = []
    SHOTS.mkdir(parents=True, exist_ok=True)
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=chromium_path(), args=ARGS)
        try:
            page = await browser.new_page(viewport={"width": 1366, "height": 1000})
            page.on("pageerror", lambda e: problems.append(str(e)))
            await sign_in(page, desk.url, "root")
            await expect(page.locator("#admin-link")).to_be_visible(timeout=STEP)
            await page.click("#admin-link")
            summary = page.locator("#hours-summary")
            await expect(summary).to_have_text(FILE_SENTENCE, timeout=STEP)
            await expect(page.locator("#hours-source")).to_have_text("(from shop.yml)")

            # A bad day: refused with the reason, the typed values stay, nothing changed.
            await page.fill("#hours-sat", "14:00-10:00")
            await page.click("#hours-form button[type=submit]")
            await expect(page.locator("#admin-error")).to_contain_text(
                "ends before it starts", timeout=STEP
            )
            await expect(page.locator("#hours-sat")).to_have_value("14:00-10:00")
            assert await told(desk.url) == FILE_SENTENCE

            # The shop now opens on Sundays instead of Saturdays.
            await page.fill("#hours-sat", "closed")
            await page.fill("#hours-sun", "10:00-16:00")
            await page.click("#hours-form button[type=submit]")
            await expect(summary).to_have_text(EDITED_SENTENCE, timeout=STEP)
            await expect(page.locator("#hours-source")).to_have_text("(set in the desk)")
            await expect(page.locator("#hours-reset")).to_be_visible()
            assert await told(desk.url) == EDITED_SENTENCE
            card = page.locator("section[aria-labelledby=hours-title]")
            await card.screenshot(path=str(SHOTS / "admin-support-hours-edited.png"))

            # Back to shop.yml: its own sentence again.
            await page.click("#hours-reset")
            await expect(summary).to_have_text(FILE_SENTENCE, timeout=STEP)
            await expect(page.locator("#hours-sun")).to_have_value("closed")
            assert await told(desk.url) == FILE_SENTENCE
        finally:
            await browser.close()
    assert problems == []
