"""An idle desk turns Away (no new chats) and comes back Online on use, in Chromium with
the page's clock run forward (no waiting in the test)."""

import pytest
from test_handoff_browser import ARGS, STEP, chromium_path

pytestmark = [pytest.mark.asyncio, pytest.mark.browser]
PASSWORD = "correct horse"


async def test_an_idle_desk_goes_away_and_back(live_desk):
    from playwright.async_api import async_playwright, expect

    executable = chromium_path()
    service = live_desk.service
    alice = await service.create_agent("alice", "Alice Moreno", PASSWORD)
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=executable, args=ARGS)
        try:
            page = await browser.new_page()
            await page.clock.install()
            await page.goto(f"{live_desk.url}/desk")
            await page.fill("#login-name", "alice")
            await page.fill("#login-password", PASSWORD)
            await page.click("button[type=submit]")
            toggle = page.locator("#status-toggle")
            await expect(page.locator("#agent-name")).to_have_text("Alice Moreno", timeout=STEP)
            await expect(toggle).to_have_text("Online", timeout=STEP)
            assert (await service.get_agent(alice.id)).online
            # Five minutes and a bit without keyboard or mouse (HANDOFF_IDLE_AWAY=300).
            await page.clock.run_for(5 * 60 * 1000 + 20_000)
            await expect(toggle).to_have_text("Away", timeout=STEP)
            assert not (await service.get_agent(alice.id)).online  # no new chats for her
            await page.mouse.move(200, 200)
            await page.mouse.move(240, 260)
            await expect(toggle).to_have_text("Online", timeout=STEP)
            assert (await service.get_agent(alice.id)).online
            # Away chosen by the agent stays Away whatever she does.
            await toggle.click()
            await expect(toggle).to_have_text("Away", timeout=STEP)
            await page.mouse.move(10, 10)
            await page.clock.run_for(20_000)
            await expect(toggle).to_have_text("Away")
        finally:
            await browser.close()
